// Handler run by the official aws-lambda-ric (ES module, as current Node runtimes allow).
export const handler = async (event, context) => {
  if (event.fail) {
    throw new RangeError(`ric handler failed: ${event.fail}`);
  }
  const start = Date.now();
  if (event.sleepMs) await new Promise((resolve) => setTimeout(resolve, event.sleepMs));
  return {
    pid: process.pid,
    start,
    end: Date.now(),
    maxConcurrency: process.env.AWS_LAMBDA_MAX_CONCURRENCY,
    client: 'aws-lambda-ric',
    requestId: context.awsRequestId,
    functionName: context.functionName,
    invokedFunctionArn: context.invokedFunctionArn,
    remainingMs: context.getRemainingTimeInMillis(),
    event,
  };
};
