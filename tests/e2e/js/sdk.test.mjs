// @aws-sdk/client-lambda (AWS SDK for JavaScript v3) against the real daemon.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { FUNCTIONS, REPO, loadLambdaSdk, makeLambdaClient, startDaemon } from './daemon.mjs';

const { LambdaClient, InvokeCommand } = await loadLambdaSdk();
const TEMPLATE = path.join(FUNCTIONS, 'sdk', 'template.yaml');
const ECHO = { python: 'PyEcho', node: 'NodeEcho', provided: 'ProvidedEcho' };
const FAIL = { python: 'PyFail', node: 'NodeFail', provided: 'ProvidedFail' };

const decode = (bytes) => new TextDecoder().decode(bytes);
const encode = (value) => new TextEncoder().encode(JSON.stringify(value));

describe('@aws-sdk/client-lambda InvokeCommand', () => {
  let daemon;
  let client;

  before(async () => {
    daemon = await startDaemon(TEMPLATE);
    client = makeLambdaClient(LambdaClient, daemon.endpoint);
  });

  after(async () => {
    client?.destroy();
    await daemon?.stop();
  });

  for (const [runtime, name] of Object.entries(ECHO)) {
    test(`${runtime}: result, StatusCode, ExecutedVersion, request id`, async () => {
      const event = { name: 'Ada', numbers: [1, 2, 3], text: 'héllo ✓' };
      const out = await client.send(new InvokeCommand({ FunctionName: name, Payload: encode(event) }));
      assert.equal(out.StatusCode, 200);
      assert.equal(out.ExecutedVersion, '$LATEST');
      assert.equal(out.FunctionError, undefined);
      assert.ok(out.Payload instanceof Uint8Array);
      const result = JSON.parse(decode(out.Payload));
      assert.equal(result.runtime, runtime);
      assert.deepEqual(result.event, event);
      assert.deepEqual(result.keys, ['name', 'numbers', 'text']);
      assert.equal(result.functionName, name);
      assert.ok(out.$metadata.requestId, 'x-amzn-RequestId must be present');
      assert.equal(result.requestId, out.$metadata.requestId);
    });

    test(`${runtime}: no Payload reaches the function as {}`, async () => {
      const out = await client.send(new InvokeCommand({ FunctionName: name }));
      assert.equal(out.StatusCode, 200);
      assert.deepEqual(JSON.parse(decode(out.Payload)).event, {});
    });
  }

  test('python: handler exception is FunctionError Unhandled', async () => {
    const out = await client.send(new InvokeCommand({ FunctionName: FAIL.python, Payload: encode({ name: 'Grace' }) }));
    assert.equal(out.StatusCode, 200);
    assert.equal(out.ExecutedVersion, '$LATEST');
    assert.equal(out.FunctionError, 'Unhandled');
    const error = JSON.parse(decode(out.Payload));
    assert.equal(error.errorType, 'ValueError');
    assert.equal(error.errorMessage, 'python says no to Grace');
    assert.equal(error.requestId, out.$metadata.requestId);
  });

  test('node: handler exception is FunctionError Unhandled', async () => {
    const out = await client.send(new InvokeCommand({ FunctionName: FAIL.node, Payload: encode({ name: 'Grace' }) }));
    assert.equal(out.StatusCode, 200);
    assert.equal(out.ExecutedVersion, '$LATEST');
    assert.equal(out.FunctionError, 'Unhandled');
    const error = JSON.parse(decode(out.Payload));
    assert.equal(error.errorType, 'TypeError');
    assert.equal(error.errorMessage, 'node says no to Grace');
    assert.ok(Array.isArray(error.trace));
  });

  test('provided: posted error body arrives byte for byte', async () => {
    const out = await client.send(new InvokeCommand({ FunctionName: FAIL.provided, Payload: encode({}) }));
    assert.equal(out.StatusCode, 200);
    assert.equal(out.ExecutedVersion, '$LATEST');
    assert.equal(out.FunctionError, 'Unhandled');
    assert.equal(decode(out.Payload),
      '{"errorMessage":"provided says no","errorType":"ProvidedError","stackTrace":["bootstrap:1"]}');
  });

  test('function name as ARN', async () => {
    const out = await client.send(new InvokeCommand({
      FunctionName: 'arn:aws:lambda:us-east-1:123456789012:function:NodeEcho',
      Payload: encode({ via: 'arn' }),
    }));
    assert.equal(out.StatusCode, 200);
    assert.deepEqual(JSON.parse(decode(out.Payload)).event, { via: 'arn' });
  });

  test('unknown function is ResourceNotFoundException', async () => {
    await assert.rejects(
      client.send(new InvokeCommand({ FunctionName: 'NoSuchFunction', Payload: encode({}) })),
      (err) => {
        assert.equal(err.name, 'ResourceNotFoundException');
        assert.equal(err.$metadata.httpStatusCode, 404);
        assert.equal(err.message,
          'Function not found: arn:aws:lambda:us-east-1:123456789012:function:NoSuchFunction:$LATEST');
        assert.equal(err.Type, 'User');
        assert.ok(err.$metadata.requestId);
        return true;
      });
  });
});
