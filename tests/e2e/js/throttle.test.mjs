// @aws-sdk/client-lambda against reserved concurrency: what a JS caller sees when it is throttled.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { FUNCTIONS, REPO, loadLambdaSdk, makeLambdaClient, startDaemon } from './daemon.mjs';

const { LambdaClient, InvokeCommand } = await loadLambdaSdk();
const TEMPLATE = path.join(FUNCTIONS, 'pools', 'template.yaml');

const decode = (bytes) => new TextDecoder().decode(bytes);
const encode = (value) => new TextEncoder().encode(JSON.stringify(value));

describe('@aws-sdk/client-lambda throttling', () => {
  let daemon;
  let client;

  before(async () => {
    daemon = await startDaemon(TEMPLATE);
    client = makeLambdaClient(LambdaClient, daemon.endpoint);
  });

  after(async () => {
    client?.destroy();
    const exit = await daemon?.stop();
    if (exit) assert.equal(exit.code, 0, `lambdad exited with ${JSON.stringify(exit)} on SIGTERM; log:\n${daemon.logs()}`);
  });

  test('reserved concurrency 2: two run, the rest get TooManyRequestsException', async () => {
    const settled = await Promise.allSettled(Array.from({ length: 8 }, () =>
      client.send(new InvokeCommand({ FunctionName: 'PairLimited', Payload: encode({ hold_s: 1.5 }) }))));
    const ok = settled.filter((s) => s.status === 'fulfilled').map((s) => s.value);
    const throttled = settled.filter((s) => s.status === 'rejected').map((s) => s.reason);

    assert.equal(ok.length, 2, `expected 2 of 8 to run; log:\n${daemon.logs()}`);
    for (const out of ok) {
      assert.equal(out.StatusCode, 200);
      assert.equal(out.FunctionError, undefined, decode(out.Payload));
    }
    const pids = new Set(ok.map((out) => JSON.parse(decode(out.Payload)).pid));
    assert.equal(pids.size, 2, 'each concurrent invoke runs in its own environment');

    assert.equal(throttled.length, 6);
    for (const err of throttled) {
      assert.equal(err.name, 'TooManyRequestsException', String(err));
      assert.equal(err.Reason, 'ReservedFunctionConcurrentInvocationLimitExceeded');
      assert.equal(err.Type, 'User');
      assert.equal(err.message, 'Rate Exceeded.');
      assert.equal(err.$metadata.httpStatusCode, 429);
      assert.ok(err.$metadata.requestId, 'x-amzn-RequestId must be present');
    }
  });

  test('reserved concurrency 0: every call is TooManyRequestsException', async () => {
    await assert.rejects(
      client.send(new InvokeCommand({ FunctionName: 'Throttled', Payload: encode({}) })),
      (err) => {
        assert.equal(err.name, 'TooManyRequestsException');
        assert.equal(err.Reason, 'ReservedFunctionConcurrentInvocationLimitExceeded');
        assert.equal(err.$metadata.httpStatusCode, 429);
        return true;
      });
  });
});
