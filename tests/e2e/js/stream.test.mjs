// InvokeWithResponseStream through @aws-sdk/client-lambda against the real daemon: chunks reach
// the client while the handler is still running, a mid-stream error arrives in InvokeComplete,
// a streamed response may exceed 6 MB, a buffered function answers in one chunk, and the same
// streaming function invoked with plain Invoke is buffered.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { FUNCTIONS, loadLambdaSdk, makeLambdaClient, startDaemon } from './daemon.mjs';

const { LambdaClient, InvokeCommand, InvokeWithResponseStreamCommand } = await loadLambdaSdk();
const TEMPLATE = path.join(FUNCTIONS, 'stream', 'template.yaml');

const encode = (value) => new TextEncoder().encode(JSON.stringify(value));
const text = (bytes) => Buffer.from(bytes).toString('utf8');

/** Invokes with InvokeWithResponseStream and collects every event with its arrival time. */
async function stream(client, FunctionName, event, extra = {}) {
  const out = await client.send(new InvokeWithResponseStreamCommand({ FunctionName, Payload: encode(event), ...extra }));
  const chunks = [];
  const completes = [];
  const order = [];
  for await (const ev of out.EventStream) {
    if (ev.PayloadChunk) {
      chunks.push({ bytes: Buffer.from(ev.PayloadChunk.Payload ?? []), at: Date.now() });
      order.push('chunk');
    } else if (ev.InvokeComplete) {
      completes.push(ev.InvokeComplete);
      order.push('complete');
    }
  }
  return { out, chunks, completes, order, body: Buffer.concat(chunks.map((c) => c.bytes)) };
}

// The JSON lines of a body, each with the time its chunk arrived.
function lines(chunks) {
  const result = [];
  for (const c of chunks) {
    for (const line of text(c.bytes).split('\n')) if (line) result.push({ ...JSON.parse(line), receivedAt: c.at });
  }
  return result;
}

describe('@aws-sdk/client-lambda InvokeWithResponseStreamCommand', () => {
  let daemon;
  let client;

  before(async () => {
    daemon = await startDaemon(TEMPLATE);
    client = makeLambdaClient(LambdaClient, daemon.endpoint);
  });

  after(async () => {
    client?.destroy();
    const exit = await daemon?.stop();
    // In the sanitizer build a leak or a use-after-free shows at exit (streams cut off mid-way
    // are where lifetimes get interesting).
    assert.doesNotMatch(daemon?.logs() ?? '', /ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:/);
    assert.equal(exit?.code, 0, `lambdad exited with ${JSON.stringify(exit)}`);
  });

  test('chunks arrive as the handler writes them, before it finishes', async () => {
    const { out, chunks, completes, order } = await stream(client, 'NodeStream', { mode: 'timed' });
    assert.equal(out.StatusCode, 200);
    assert.equal(out.ExecutedVersion, '$LATEST');
    assert.equal(out.ResponseStreamContentType, 'application/vnd.amazon.eventstream');
    assert.ok(out.$metadata.requestId);
    const [first, second] = lines(chunks);
    assert.equal(first.chunk, 1);
    assert.equal(second.chunk, 2);
    assert.ok(
      first.receivedAt < second.writtenAt,
      `chunk 1 was received at ${first.receivedAt}, after chunk 2 was written at ${second.writtenAt}`,
    );
    assert.equal(second.requestId, out.$metadata.requestId);
    assert.deepEqual(order, ['chunk', 'chunk', 'complete'], 'one PayloadChunk per write, then one InvokeComplete');
    assert.equal(completes[0].ErrorCode, undefined);
    assert.equal(completes[0].ErrorDetails, undefined);
    assert.equal(completes[0].LogResult, undefined);
  });

  test('a mid-stream error arrives in InvokeComplete after the bytes already streamed', async () => {
    const { chunks, completes, order } = await stream(client, 'NodeStream', { mode: 'fail', why: 'bad input' });
    assert.equal(text(Buffer.concat(chunks.map((c) => c.bytes))), 'partial output;');
    assert.equal(order.at(-1), 'complete');
    assert.equal(completes.length, 1);
    assert.equal(completes[0].ErrorCode, 'Error');
    assert.equal(completes[0].ErrorDetails, 'boom mid-stream: bad input');
  });

  test('a streamed response larger than 6 MB', async () => {
    const size = 1024 * 1024;
    const { body, chunks, completes } = await stream(client, 'NodeStream', { mode: 'big', chunks: 7, size });
    assert.equal(body.length, 7 * size);
    for (let i = 0; i < 7; i++) {
      const part = body.subarray(i * size, (i + 1) * size);
      assert.ok(part.every((b) => b === 97 + i), `chunk ${i} intact`);
    }
    assert.ok(chunks.length >= 7, `${chunks.length} PayloadChunks`);
    assert.equal(completes[0].ErrorCode, undefined);
  });

  test('HttpResponseStream: the prelude and 8 NUL bytes arrive inside the first chunk', async () => {
    const { body } = await stream(client, 'NodeStream', { mode: 'http' });
    const prelude = JSON.stringify({ statusCode: 201, headers: { 'x-custom': 'yes' } });
    assert.equal(body.subarray(0, prelude.length).toString(), prelude);
    assert.deepEqual([...body.subarray(prelude.length, prelude.length + 8)], [0, 0, 0, 0, 0, 0, 0, 0]);
    assert.equal(body.subarray(prelude.length + 8).toString(), 'http body');
  });

  test('an empty stream is just InvokeComplete', async () => {
    const { order, completes } = await stream(client, 'NodeStream', { mode: 'empty' });
    assert.deepEqual(order, ['complete']);
    assert.equal(completes[0].ErrorCode, undefined);
  });

  test('X-Amz-Log-Type Tail puts the invoke log in InvokeComplete.LogResult', async () => {
    const { out, completes } = await stream(client, 'NodeStream', { mode: 'echo' }, { LogType: 'Tail' });
    const log = Buffer.from(completes[0].LogResult, 'base64').toString();
    const id = out.$metadata.requestId;
    assert.match(log, new RegExp(`START RequestId: ${id} Version: \\$LATEST`));
    assert.match(log, new RegExp(`END RequestId: ${id}`));
    assert.match(log, new RegExp(`REPORT RequestId: ${id}\\tDuration: `));
  });

  test('a buffered function answers in one PayloadChunk', async () => {
    const { chunks, completes, order } = await stream(client, 'NodeBuffered', { n: 1 });
    assert.deepEqual(order, ['chunk', 'complete']);
    assert.deepEqual(JSON.parse(text(chunks[0].bytes)), { buffered: true, event: { n: 1 } });
    assert.equal(completes[0].ErrorCode, undefined);
  });

  test('a buffered function error is InvokeComplete without PayloadChunk', async () => {
    const { order, completes } = await stream(client, 'NodeBuffered', { fail: 'nope' });
    assert.deepEqual(order, ['complete']);
    assert.equal(completes[0].ErrorCode, 'TypeError');
    assert.equal(completes[0].ErrorDetails, 'buffered failure: nope');
  });

  test('the function timeout ends a stream with Sandbox.Timedout, and the next invoke runs', async () => {
    const { body, completes } = await stream(client, 'NodeStreamShortTimeout', { mode: 'hang' });
    assert.equal(body.toString(), 'before the timeout');
    assert.equal(completes[0].ErrorCode, 'Sandbox.Timedout');
    assert.match(completes[0].ErrorDetails, /Task timed out after 2\.00 seconds/);
    const again = await stream(client, 'NodeStreamShortTimeout', { mode: 'echo' });
    assert.deepEqual(JSON.parse(again.body.toString()), { echo: { mode: 'echo' } });
  });

  test('plain Invoke of a streaming function returns the buffered body', async () => {
    const out = await client.send(
      new InvokeCommand({ FunctionName: 'NodeStream', Payload: encode({ mode: 'timed', gapMs: 20 }) }),
    );
    assert.equal(out.StatusCode, 200);
    assert.equal(out.FunctionError, undefined);
    const got = text(out.Payload).trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(got.map((l) => l.chunk), [1, 2]);
  });

  test('plain Invoke of a streaming function is held to the buffered 6 MB limit', async () => {
    const out = await client.send(
      new InvokeCommand({ FunctionName: 'NodeStream', Payload: encode({ mode: 'big', chunks: 7, size: 1024 * 1024 }) }),
    );
    assert.equal(out.FunctionError, 'Unhandled');
    assert.deepEqual(JSON.parse(text(out.Payload)), {
      errorMessage: 'Response payload size exceeded maximum allowed payload size (6291556 bytes).',
      errorType: 'Function.ResponseSizeTooLarge',
    });
  });

  test('the official aws-lambda-ric streams through lambdad too', async () => {
    const { chunks, completes } = await stream(client, 'RicStream', {});
    const [first, second] = lines(chunks);
    assert.ok(first.receivedAt < second.writtenAt, 'chunk 1 before chunk 2 was written');
    assert.equal(completes[0].ErrorCode, undefined);
    const failed = await stream(client, 'RicStream', { fail: 'late' });
    assert.equal(lines(failed.chunks).length, 1);
    assert.equal(failed.completes[0].ErrorCode, 'RangeError');
    assert.equal(failed.completes[0].ErrorDetails, 'ric stream failed: late');
  });

  test('a custom runtime streaming with curl', async () => {
    const { chunks, completes } = await stream(client, 'CurlStream', { lines: 3, gap: '0.4' });
    const all = text(Buffer.concat(chunks.map((c) => c.bytes))).trim().split('\n');
    assert.deepEqual(all.map((l) => l.split(' at ')[0]), ['line 1', 'line 2', 'line 3']);
    // The first line reached the client before the last one was written.
    const lastWrittenAt = Number(all[2].split(' at ')[1]);
    assert.ok(chunks[0].at < lastWrittenAt, `first chunk at ${chunks[0].at}, last line written at ${lastWrittenAt}`);
    assert.equal(completes[0].ErrorCode, undefined);
  });

  test('errors before the function runs are ordinary Lambda errors', async () => {
    await assert.rejects(client.send(new InvokeWithResponseStreamCommand({ FunctionName: 'NoSuchFunction' })), {
      name: 'ResourceNotFoundException',
      message: 'Function not found: arn:aws:lambda:us-east-1:123456789012:function:NoSuchFunction:$LATEST',
    });
    await assert.rejects(client.send(new InvokeWithResponseStreamCommand({ FunctionName: 'Throttled' })), {
      name: 'TooManyRequestsException',
    });
    await assert.rejects(
      client.send(new InvokeWithResponseStreamCommand({ FunctionName: 'NodeStream', Payload: new TextEncoder().encode('{nope') })),
      { name: 'InvalidRequestContentException' },
    );
  });
});
