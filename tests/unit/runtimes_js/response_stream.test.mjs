// Unit tests of the Node.js runtime client's response streaming (awslambda.streamifyResponse,
// awslambda.HttpResponseStream) against a raw TCP server standing in for the Runtime API, so the
// exact HTTP the client writes is visible: headers, one chunk per write, trailers on failure.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';

import { HANDLER_STREAMING, STREAM_RESPONSE, handlerMetadata } from '../../../runtimes/nodejs/lib/handler_loader.mjs';
import { createResponseStream, failStream, HttpResponseStream } from '../../../runtimes/nodejs/lib/response_stream.mjs';
import { RuntimeApiClient } from '../../../runtimes/nodejs/lib/runtime_api_client.mjs';

// A Runtime API that records each request's raw bytes and answers 202 once the chunked body ends.
class FakeRuntimeApi {
  constructor() {
    this.requests = [];
    this.waiters = [];
    this.server = net.createServer((socket) => {
      // The client keeps its connection alive: a new request starts after each answer.
      let raw = Buffer.alloc(0);
      let request = null;
      socket.on('data', (data) => {
        if (!request) {
          request = { raw: '', done: false };
          raw = Buffer.alloc(0);
          this.requests.push(request);
        }
        raw = Buffer.concat([raw, data]);
        request.raw = raw.toString('latin1');
        if (/\r\n0\r\n(.*\r\n)*\r\n$/s.test(request.raw)) {
          request.done = true;
          request = null;
          socket.write('HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: 16\r\n\r\n{"status":"OK"}\n');
        }
        this.notify();
      });
    });
  }
  listen() {
    return new Promise((resolve) => this.server.listen(0, '127.0.0.1', () => resolve(this.server.address().port)));
  }
  notify() {
    for (const w of this.waiters.splice(0)) w();
  }
  // Resolves once `pred()` holds (checked on every received byte).
  until(pred) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out waiting for the runtime client')), 5000);
      const check = () => {
        if (pred()) {
          clearTimeout(timer);
          resolve();
        } else {
          this.waiters.push(check);
        }
      };
      check();
    });
  }
  close() {
    this.server.close();
  }
}

let api;
let client;

before(async () => {
  api = new FakeRuntimeApi();
  const port = await api.listen();
  client = new RuntimeApiClient(`127.0.0.1:${port}`);
});

after(() => {
  client.close();
  api.close();
});

const last = () => api.requests.at(-1);

test('a streamed response is a chunked POST, each write sent as its own chunk when written', async () => {
  const { stream, responseDone } = createResponseStream(client, 'req-1');
  stream.write('hello');
  await api.until(() => last()?.raw.includes('5\r\nhello\r\n'));
  const head = last().raw.split('\r\n\r\n')[0];
  assert.match(head, /^POST \/2018-06-01\/runtime\/invocation\/req-1\/response HTTP\/1.1/);
  assert.match(head, /\r\nLambda-Runtime-Function-Response-Mode: streaming/);
  assert.match(head, /\r\nTransfer-Encoding: chunked/);
  assert.match(head, /\r\nTrailer: Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body/);
  assert.match(head, /\r\nContent-Type: application\/octet-stream/);
  assert.equal(last().done, false, 'the body is still open');
  stream.write(Buffer.from('world!'));
  stream.end();
  assert.equal((await responseDone).toString(), '{"status":"OK"}\n');
  assert.ok(last().raw.endsWith('5\r\nhello\r\n6\r\nworld!\r\n0\r\n\r\n'), JSON.stringify(last().raw));
});

test('setContentType works until the first write', async () => {
  const { stream, responseDone } = createResponseStream(client, 'req-2');
  stream.setContentType('text/event-stream');
  stream.write('data: 1\n\n');
  assert.throws(() => stream.setContentType('text/plain'), {
    name: 'Runtime.InvalidStreamingOperation',
    message: 'Cannot set content-type, too late.',
  });
  stream.end();
  await responseDone;
  assert.match(last().raw, /\r\nContent-Type: text\/event-stream\r\n/);
});

test('a failure ends the stream with the error in the trailers', async () => {
  const { stream, responseDone } = createResponseStream(client, 'req-3');
  stream.write('partial');
  const error = new RangeError('went wrong');
  await new Promise((resolve) => failStream(stream, error, resolve));
  await responseDone;
  const raw = last().raw;
  const trailers = raw.slice(raw.lastIndexOf('\r\n0\r\n') + 5);
  const type = /Lambda-Runtime-Function-Error-Type: (.*)\r\n/.exec(trailers)?.[1];
  const body = /Lambda-Runtime-Function-Error-Body: (.*)\r\n/.exec(trailers)?.[1];
  assert.equal(type, 'RangeError');
  const decoded = JSON.parse(Buffer.from(body, 'base64').toString());
  assert.equal(decoded.errorType, 'RangeError');
  assert.equal(decoded.errorMessage, 'went wrong');
  assert.ok(Array.isArray(decoded.trace));
  assert.ok(raw.includes('7\r\npartial\r\n'));
});

test('HttpResponseStream.from writes the JSON prelude and 8 NUL bytes before the body', async () => {
  const { stream, responseDone } = createResponseStream(client, 'req-4');
  const http = HttpResponseStream.from(stream, { statusCode: 418, headers: { 'x-a': 'b' }, cookies: ['c=d'] });
  http.write('tea');
  http.end();
  await responseDone;
  const raw = last().raw;
  assert.match(raw, /\r\nContent-Type: application\/vnd.awslambda.http-integration-response\r\n/);
  const body = raw.slice(raw.indexOf('\r\n\r\n') + 4);
  const prelude = '{"statusCode":418,"headers":{"x-a":"b"},"cookies":["c=d"]}';
  const hex = (n) => n.toString(16);
  assert.ok(
    body.startsWith(`${hex(prelude.length)}\r\n${prelude}\r\n8\r\n${'\0'.repeat(8)}\r\n3\r\ntea\r\n0\r\n\r\n`),
    JSON.stringify(body),
  );
});

test('non-buffer writes are JSON-encoded, as in the managed runtime', async () => {
  const { stream, responseDone } = createResponseStream(client, 'req-5');
  stream.write({ a: 1 });
  stream.end();
  await responseDone;
  assert.ok(last().raw.includes('7\r\n{"a":1}\r\n'));
});

test('awslambda.streamifyResponse marks a handler as streaming', async () => {
  const handler = async () => {};
  handler[HANDLER_STREAMING] = STREAM_RESPONSE;
  assert.equal(handlerMetadata(handler).streaming, STREAM_RESPONSE);
  assert.equal(handlerMetadata(async () => {}).streaming, false);
  const bad = async () => {};
  bad[HANDLER_STREAMING] = 'request';
  assert.throws(() => handlerMetadata(bad), { name: 'Runtime.MalformedStreamingHandler' });
});
