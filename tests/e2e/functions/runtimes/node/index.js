// CommonJS Node.js functions for tests/e2e/test_runtimes.py.
exports.asyncHandler = async (event, context) => ({
  event,
  requestId: context.awsRequestId,
  remainingMs: context.getRemainingTimeInMillis(),
  memoryLimitInMB: context.memoryLimitInMB,
  invokedFunctionArn: context.invokedFunctionArn,
  traceEnv: process.env._X_AMZN_TRACE_ID,
  awslambda: typeof awslambda,
});

// The result is serialized when it is posted: with callbackWaitsForEmptyEventLoop (the
// default) that is after the timer ran, so timerFired is in the response; without, it is not.
exports.callbackHandler = (event, context, callback) => {
  if (event.noWait) context.callbackWaitsForEmptyEventLoop = false;
  const result = { callback: true };
  setTimeout(() => {
    result.timerFired = true;
  }, event.timerMs ?? 300);
  callback(null, result);
};

exports.callbackError = (event, context, callback) => callback(new TypeError('bad input'));

exports.throws = async (event) => {
  throw new Error(`handler failed: ${event.why}`);
};

exports.throwsString = () => {
  throw 'a plain string';
};

exports.logs = async (event) => {
  console.log('logged %s', event.marker);
  console.error('error line', event.marker);
  return 'ok';
};

exports.neverSettles = async () => new Promise(() => {});
