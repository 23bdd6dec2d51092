// Handler run by the official aws-lambda-ric (ES module, as current Node runtimes allow).
export const handler = async (event, context) => {
  if (event.fail) {
    throw new RangeError(`ric handler failed: ${event.fail}`);
  }
  return {
    client: 'aws-lambda-ric',
    requestId: context.awsRequestId,
    functionName: context.functionName,
    invokedFunctionArn: context.invokedFunctionArn,
    remainingMs: context.getRemainingTimeInMillis(),
    event,
  };
};
