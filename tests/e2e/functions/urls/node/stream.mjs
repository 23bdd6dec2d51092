// A streaming URL handler; ?mode= picks what it streams:
//   http (default)  HttpResponseStream.from with status 202, a header and cookies, then two chunks
//                   event.queryStringParameters.gap ms apart (default 800), each saying when it was written
//   plain           no prelude: text/plain chunks
//   fail            the prelude and a chunk, then an exception
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export const handler = awslambda.streamifyResponse(async (event, responseStream) => {
  const q = event.queryStringParameters ?? {};
  const gap = Number(q.gap ?? 800);
  switch (q.mode ?? 'http') {
    case 'plain':
      responseStream.setContentType('text/plain');
      responseStream.write(`first ${Date.now()}\n`);
      await sleep(gap);
      responseStream.write(`second ${Date.now()}\n`);
      responseStream.end();
      return;
    case 'fail': {
      const stream = awslambda.HttpResponseStream.from(responseStream, { statusCode: 200 });
      stream.write('partial;');
      await sleep(100);
      throw new Error('boom mid-stream');
    }
    default: {
      const stream = awslambda.HttpResponseStream.from(responseStream, {
        statusCode: 202,
        headers: { 'content-type': 'text/plain', 'x-streamed': 'yes' },
        cookies: ['a=1; Path=/', 'b=2'],
      });
      stream.write(`first ${Date.now()}\n`);
      await sleep(gap);
      stream.write(`second ${Date.now()}\n`);
      stream.end();
    }
  }
});
