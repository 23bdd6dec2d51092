export const handler = async () => ({
  initializationType: process.env.AWS_LAMBDA_INITIALIZATION_TYPE,
  logStream: process.env.AWS_LAMBDA_LOG_STREAM_NAME ?? null,
});
