// @aws-sdk/client-lambda (AWS SDK for JavaScript v3) against a daemon started with --credentials
// (docs/decisions/010): its SigV4 signatures are accepted for Invoke (name, qualifier, ARN),
// InvokeWithResponseStream and the control plane (ListFunctions, CreateFunction with a zip); a
// wrong secret, an unknown key and a clock 6 minutes off are refused with Lambda's exceptions,
// which the SDK names.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FUNCTIONS, loadLambdaSdk, startDaemon } from './daemon.mjs';

const {
  LambdaClient, CreateFunctionCommand, DeleteFunctionCommand, InvokeCommand, InvokeWithResponseStreamCommand,
  ListFunctionsCommand, waitUntilFunctionActiveV2,
} = await loadLambdaSdk();

const TEMPLATE = path.join(FUNCTIONS, 'security', 'template.yaml');
const KEY = 'AKIDLAMBDADJSTEST01';
const SECRET = 'js/secret+with=odd chars';
const ARN = 'arn:aws:lambda:us-east-1:123456789012:function:';
const ROLE = 'arn:aws:iam::123456789012:role/lambda-role';

const decode = (bytes) => JSON.parse(new TextDecoder().decode(bytes));
const encode = (value) => new TextEncoder().encode(JSON.stringify(value));

function zipOf(files) {
  const py = `
import io, json, sys, zipfile
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w") as z:
    for name, text in json.loads(sys.argv[1]).items():
        z.writestr(name, text)
sys.stdout.buffer.write(buf.getvalue())
`;
  const r = spawnSync('/usr/bin/python3', ['-c', py, JSON.stringify(files)]);
  if (r.status !== 0) throw new Error(`zip failed: ${r.stderr}`);
  return new Uint8Array(r.stdout);
}

describe('@aws-sdk/client-lambda with serve --credentials', () => {
  let dir;
  let daemon;
  const clients = [];

  function client({ key = KEY, secret = SECRET, offsetMs = 0 } = {}) {
    const c = new LambdaClient({
      endpoint: daemon.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: key, secretAccessKey: secret },
      maxAttempts: 1,
      systemClockOffset: offsetMs,
    });
    clients.push(c);
    return c;
  }

  async function refused(promise) {
    try {
      await promise;
    } catch (err) {
      return err;
    }
    assert.fail('the request was served');
  }

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'lambdad-js-sec-'));
    const file = path.join(dir, 'keys.json');
    writeFileSync(file, JSON.stringify({ [KEY]: SECRET }));
    daemon = await startDaemon(TEMPLATE, '--credentials', file);
  });

  after(async () => {
    for (const c of clients) c.destroy();
    const exit = await daemon?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
    if (exit) assert.equal(exit.code, 0, `lambdad exited with ${JSON.stringify(exit)} on SIGTERM; log:\n${daemon.logs()}`);
  });

  test('signed Invoke by name, with a qualifier and by ARN', async () => {
    const c = client();
    for (const [params, version] of [
      [{ FunctionName: 'SecEcho' }, '$LATEST'],
      [{ FunctionName: 'SecEcho', Qualifier: 'live' }, '1'],
      [{ FunctionName: 'SecEcho:$LATEST' }, '$LATEST'],
      [{ FunctionName: `${ARN}SecEcho:live` }, '1'],
    ]) {
      const out = await c.send(new InvokeCommand({ ...params, Payload: encode({ from: 'js' }) }));
      assert.equal(out.StatusCode, 200, JSON.stringify(params));
      assert.equal(out.FunctionError, undefined);
      assert.equal(out.ExecutedVersion, version, JSON.stringify(params));
      const result = decode(out.Payload);
      assert.deepEqual(result.event, { from: 'js' });
      assert.equal(result.requestId, out.$metadata.requestId);
    }
  });

  test('signed InvokeWithResponseStream', async () => {
    const out = await client().send(new InvokeWithResponseStreamCommand({
      FunctionName: 'SecEcho', Qualifier: 'live', Payload: encode({ s: 1 }),
    }));
    assert.equal(out.ExecutedVersion, '1');
    let body = '';
    let complete;
    for await (const event of out.EventStream) {
      if (event.PayloadChunk) body += new TextDecoder().decode(event.PayloadChunk.Payload);
      if (event.InvokeComplete) complete = event.InvokeComplete;
    }
    assert.deepEqual(JSON.parse(body).event, { s: 1 });
    assert.equal(complete.ErrorCode, undefined);
  });

  test('signed ListFunctions and CreateFunction with a zip', async () => {
    const c = client();
    const listed = await c.send(new ListFunctionsCommand({}));
    assert.ok(listed.Functions.some((f) => f.FunctionName === 'SecEcho'));

    const name = 'SecJsCreated';
    const zip = zipOf({ 'app.py': 'def handler(event, context):\n    return {"created": event}\n' });
    const created = await c.send(new CreateFunctionCommand({
      FunctionName: name, Runtime: 'python3.12', Role: ROLE, Handler: 'app.handler', Code: { ZipFile: zip },
    }));
    assert.equal(created.$metadata.httpStatusCode, 201);
    try {
      await waitUntilFunctionActiveV2({ client: c, maxWaitTime: 60, minDelay: 0.1, maxDelay: 0.5 }, { FunctionName: name });
      const out = await c.send(new InvokeCommand({ FunctionName: name, Payload: encode({ x: 1 }) }));
      assert.deepEqual(decode(out.Payload), { created: { x: 1 } });
    } finally {
      await c.send(new DeleteFunctionCommand({ FunctionName: name }));
    }
  });

  test('a wrong secret is InvalidSignatureException', async () => {
    const err = await refused(client({ secret: 'wrong' }).send(new InvokeCommand({ FunctionName: 'SecEcho' })));
    assert.equal(err.name, 'InvalidSignatureException');
    assert.equal(err.$metadata.httpStatusCode, 403);
    assert.match(err.message, /^The request signature we calculated does not match the signature you provided\./);
  });

  test('an unknown key is UnrecognizedClientException', async () => {
    const err = await refused(client({ key: 'AKIDUNKNOWN' }).send(new ListFunctionsCommand({})));
    assert.equal(err.name, 'UnrecognizedClientException');
    assert.equal(err.$metadata.httpStatusCode, 403);
    assert.equal(err.message, 'The security token included in the request is invalid.');
  });

  test('a clock 6 minutes behind is an expired signature', async () => {
    const err = await refused(client({ offsetMs: -6 * 60 * 1000 }).send(new InvokeCommand({ FunctionName: 'SecEcho' })));
    assert.equal(err.name, 'InvalidSignatureException');
    assert.match(err.message, /^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 5 min\.\)$/);
    // 4 minutes is within the window.
    const out = await client({ offsetMs: -4 * 60 * 1000 }).send(new InvokeCommand({ FunctionName: 'SecEcho' }));
    assert.equal(out.StatusCode, 200);
  });
});
