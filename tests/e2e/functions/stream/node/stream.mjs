// A streaming handler (awslambda.streamifyResponse) whose behaviour the event picks:
//   timed   two chunks 500 ms apart; each says when it was written (Date.now())
//   fail    a chunk, then an exception (the error goes out in the stream's trailers)
//   big     event.chunks chunks of event.size bytes (default 7 x 1 MiB: more than 6 MB)
//   http    awslambda.HttpResponseStream.from with a status code and headers
//   hang    a chunk, then never ends (for the function timeout)
//   empty   ends without writing
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const pattern = (i, size) => Buffer.alloc(size, String.fromCharCode(97 + (i % 26)));

export const handler = awslambda.streamifyResponse(async (event, responseStream, context) => {
  switch (event.mode) {
    case 'timed': {
      responseStream.setContentType('application/x-ndjson');
      responseStream.write(JSON.stringify({ chunk: 1, writtenAt: Date.now() }) + '\n');
      await sleep(event.gapMs ?? 500);
      responseStream.write(JSON.stringify({ chunk: 2, writtenAt: Date.now(), requestId: context.awsRequestId }) + '\n');
      responseStream.end();
      return;
    }
    case 'fail':
      responseStream.write('partial output;');
      await sleep(50);
      throw new Error(`boom mid-stream: ${event.why}`);
    case 'big': {
      const chunks = event.chunks ?? 7;
      const size = event.size ?? 1024 * 1024;
      for (let i = 0; i < chunks; i++) {
        // Respect backpressure like a well-behaved stream producer.
        if (!responseStream.write(pattern(i, size))) {
          await new Promise((resolve) => responseStream.once('drain', resolve));
        }
      }
      responseStream.end();
      return;
    }
    case 'http': {
      const stream = awslambda.HttpResponseStream.from(responseStream, {
        statusCode: 201,
        headers: { 'x-custom': 'yes' },
      });
      stream.write('http body');
      stream.end();
      return;
    }
    case 'hang':
      responseStream.write('before the timeout');
      await new Promise(() => {});
      return;
    case 'empty':
      responseStream.end();
      return;
    default:
      responseStream.write(JSON.stringify({ echo: event }));
      responseStream.end();
  }
});
