// Streaming handler run by the OFFICIAL aws-lambda-ric: two chunks 500 ms apart, or a failure.
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export const handler = awslambda.streamifyResponse(async (event, responseStream) => {
  responseStream.write(JSON.stringify({ chunk: 1, writtenAt: Date.now() }) + '\n');
  await sleep(500);
  if (event.fail) throw new RangeError(`ric stream failed: ${event.fail}`);
  responseStream.write(JSON.stringify({ chunk: 2, writtenAt: Date.now() }) + '\n');
  responseStream.end();
});
