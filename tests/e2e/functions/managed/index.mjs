// Sleeps as asked and says who ran it: one process per environment, invokes side by side in it.
let inFlight = 0;

export const handler = async (event, context) => {
  const start = Date.now() / 1000;
  inFlight += 1;
  const beside = inFlight - 1;
  await new Promise((resolve) => setTimeout(resolve, (event.sleep ?? 0) * 1000));
  inFlight -= 1;
  return {
    id: event.id,
    requestId: context.awsRequestId,
    pid: process.pid,
    environment: process.pid,
    start,
    end: Date.now() / 1000,
    beside,
    maxConcurrency: process.env.AWS_LAMBDA_MAX_CONCURRENCY,
    initializationType: process.env.AWS_LAMBDA_INITIALIZATION_TYPE,
  };
};
