// @aws-sdk/client-lambda (AWS SDK for JavaScript v3) driving the control plane of the real
// daemon (docs/decisions/008): create, wait, invoke, update, publish, list, delete, concurrency.
// Zips are built at test time from tests/e2e/functions/control_plane/python by Debian's python
// (zipfile), with a code_version.txt that the handler returns, so a result names its code.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import path from 'node:path';
import { FUNCTIONS, loadLambdaSdk, makeLambdaClient, startDaemon } from './daemon.mjs';

const {
  LambdaClient, CreateFunctionCommand, DeleteFunctionCommand, GetFunctionCommand,
  GetFunctionConfigurationCommand, InvokeCommand, ListFunctionsCommand,
  PublishVersionCommand, PutFunctionConcurrencyCommand, UpdateFunctionCodeCommand,
  paginateListFunctions, waitUntilFunctionActiveV2, waitUntilFunctionUpdatedV2,
} = await loadLambdaSdk();

const HERE = path.join(FUNCTIONS, 'control_plane');
const TEMPLATE = path.join(HERE, 'template.yaml');
const ARN = 'arn:aws:lambda:us-east-1:123456789012:function:';
const ROLE = 'arn:aws:iam::123456789012:role/lambda-role';
// The SDK waiters start at 1 s between polls; the daemon unpacks a small zip in milliseconds.
const WAIT = { maxWaitTime: 60, minDelay: 0.1, maxDelay: 0.5 };

const ZIP_PY = `
import io, os, sys, zipfile
src, version = sys.argv[1], sys.argv[2]
buf = io.BytesIO()
stamp = (1980, 1, 1, 0, 0, 0)
with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
    for root, dirs, files in os.walk(src):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for f in sorted(files):
            p = os.path.join(root, f)
            info = zipfile.ZipInfo(os.path.relpath(p, src), stamp)
            info.external_attr = (os.stat(p).st_mode & 0o777) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            with open(p, "rb") as fh:
                z.writestr(info, fh.read())
    info = zipfile.ZipInfo("code_version.txt", stamp)
    info.external_attr = 0o644 << 16
    z.writestr(info, version)
sys.stdout.buffer.write(buf.getvalue())
`;

function makeZip(source, codeVersion) {
  const r = spawnSync('/usr/bin/python3', ['-c', ZIP_PY, source, codeVersion], { maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`zipping ${source} failed: ${r.stderr}`);
  return new Uint8Array(r.stdout);
}

const sha256 = (bytes) => createHash('sha256').update(bytes).digest('base64');
const decode = (bytes) => new TextDecoder().decode(bytes);
const encode = (value) => new TextEncoder().encode(JSON.stringify(value));
const unique = (prefix) => `${prefix}-${randomUUID().slice(0, 8)}`;

describe('@aws-sdk/client-lambda control plane', () => {
  let daemon;
  let client;
  const name = unique('js-cp');
  const zips = {};

  before(async () => {
    zips.v1 = makeZip(path.join(HERE, 'python'), 'v1');
    zips.v2 = makeZip(path.join(HERE, 'python'), 'v2');
    daemon = await startDaemon(TEMPLATE);
    client = makeLambdaClient(LambdaClient, daemon.endpoint);
  });

  after(async () => {
    client?.destroy();
    const exit = await daemon?.stop();
    if (exit) assert.equal(exit.code, 0, `lambdad exited with ${JSON.stringify(exit)} on SIGTERM; log:\n${daemon.logs()}`);
  });

  async function invoke(functionName, params = {}) {
    const out = await client.send(new InvokeCommand({ FunctionName: functionName, Payload: encode({ from: 'js' }), ...params }));
    assert.equal(out.StatusCode, 200);
    assert.equal(out.FunctionError, undefined, decode(out.Payload));
    return { out, result: JSON.parse(decode(out.Payload)) };
  }

  test('CreateFunction → waitUntilFunctionActiveV2 → Invoke', async () => {
    const out = await client.send(new CreateFunctionCommand({
      FunctionName: name, Runtime: 'python3.12', Role: ROLE, Handler: 'app.handler', Code: { ZipFile: zips.v1 },
    }));
    assert.equal(out.$metadata.httpStatusCode, 201);
    assert.equal(out.FunctionName, name);
    assert.equal(out.FunctionArn, ARN + name);
    assert.equal(out.State, 'Pending');
    assert.equal(out.StateReasonCode, 'Creating');
    assert.equal(out.CodeSize, zips.v1.length);
    assert.equal(out.CodeSha256, sha256(zips.v1));
    assert.equal(out.Timeout, 3);
    assert.equal(out.MemorySize, 128);

    const waited = await waitUntilFunctionActiveV2({ client, ...WAIT }, { FunctionName: name });
    assert.equal(waited.state, 'SUCCESS');

    const { out: inv, result } = await invoke(name);
    assert.equal(inv.ExecutedVersion, '$LATEST');
    assert.equal(result.code, 'v1');
    assert.equal(result.functionName, name);
    assert.deepEqual(result.event, { from: 'js' });
  });

  test('UpdateFunctionCode → waitUntilFunctionUpdatedV2 → Invoke runs the new code', async () => {
    const out = await client.send(new UpdateFunctionCodeCommand({ FunctionName: name, ZipFile: zips.v2 }));
    assert.equal(out.$metadata.httpStatusCode, 200);
    assert.equal(out.LastUpdateStatus, 'InProgress');
    assert.equal(out.CodeSha256, sha256(zips.v2));

    const waited = await waitUntilFunctionUpdatedV2({ client, ...WAIT }, { FunctionName: name });
    assert.equal(waited.state, 'SUCCESS');
    const got = await client.send(new GetFunctionCommand({ FunctionName: name }));
    assert.equal(got.Configuration.LastUpdateStatus, 'Successful');
    assert.equal(got.Configuration.CodeSha256, sha256(zips.v2));
    assert.equal((await invoke(name)).result.code, 'v2');
  });

  test('PublishVersion → invoke the version', async () => {
    const out = await client.send(new PublishVersionCommand({ FunctionName: name }));
    assert.equal(out.$metadata.httpStatusCode, 201);
    assert.equal(out.Version, '1');
    assert.equal(out.FunctionArn, `${ARN}${name}:1`);
    const { out: inv, result } = await invoke(name, { Qualifier: '1' });
    assert.equal(inv.ExecutedVersion, '1');
    assert.equal(result.code, 'v2');
    assert.equal(result.functionVersion, '1');
  });

  test('paginateListFunctions lists every function once', async () => {
    const names = [];
    let pages = 0;
    for await (const page of paginateListFunctions({ client, pageSize: 1 }, {})) {
      pages += 1;
      names.push(...page.Functions.map((f) => f.FunctionName));
      assert.ok(pages < 1000, 'paging never ended');
    }
    for (const expected of [name, 'TemplateEcho', 'TemplateNodeEcho']) {
      assert.ok(names.includes(expected), `${expected} missing from ${names}`);
    }
    assert.equal(new Set(names).size, names.length, `duplicates in ${names}`);
    assert.equal(pages, names.length, 'MaxItems 1: one function per page');
  });

  test('GetFunction shows LoggingConfig and the RuntimeVersionArn INIT_START prints', async () => {
    const got = await client.send(new GetFunctionCommand({ FunctionName: 'TemplateEcho' }));
    assert.deepEqual(got.Configuration.LoggingConfig, { LogFormat: 'Text', LogGroup: '/aws/lambda/TemplateEcho' });
    const arn = got.Configuration.RuntimeVersionConfig.RuntimeVersionArn;
    assert.match(arn, /^arn:aws:lambda:us-east-1::runtime:[0-9a-f]{64}$/);
    // The template's LoggingConfig (JSON, ApplicationLogLevel WARN); SystemLogLevel is Lambda's default.
    const node = await client.send(new GetFunctionConfigurationCommand({ FunctionName: 'TemplateNodeEcho' }));
    assert.deepEqual(node.LoggingConfig, {
      LogFormat: 'JSON', ApplicationLogLevel: 'WARN', SystemLogLevel: 'INFO', LogGroup: '/aws/lambda/TemplateNodeEcho',
    });

    const logged = unique('js-log');
    await client.send(new CreateFunctionCommand({
      FunctionName: logged, Runtime: 'python3.12', Role: ROLE, Handler: 'app.handler', Code: { ZipFile: zips.v1 },
      LoggingConfig: { LogFormat: 'JSON', LogGroup: `/custom/${logged}` },
    }));
    await waitUntilFunctionActiveV2({ client, ...WAIT }, { FunctionName: logged });
    const config = await client.send(new GetFunctionConfigurationCommand({ FunctionName: logged }));
    assert.deepEqual(config.LoggingConfig, {
      LogFormat: 'JSON', ApplicationLogLevel: 'INFO', SystemLogLevel: 'INFO', LogGroup: `/custom/${logged}`,
    });
    assert.deepEqual(config.RuntimeVersionConfig, { RuntimeVersionArn: arn }, 'one ARN per runtime');
    // The cold start's INIT_START (in the daemon's log, not in LogResult) prints the same ARN.
    await invoke(logged);
    const printed = `Runtime Version ARN: ${arn}`;
    for (let i = 0; i < 50 && !daemon.logs().includes(printed); i += 1) await new Promise((r) => setTimeout(r, 50));
    assert.ok(daemon.logs().includes(printed), daemon.logs());

    // ListFunctions: LoggingConfig, but no State or LastUpdateStatus.
    const listed = (await client.send(new ListFunctionsCommand({}))).Functions.find((f) => f.FunctionName === logged);
    assert.deepEqual(listed.LoggingConfig, config.LoggingConfig);
    assert.equal(listed.State, undefined);
    assert.equal(listed.LastUpdateStatus, undefined);
    await client.send(new DeleteFunctionCommand({ FunctionName: logged }));
  });

  test('GetFunction of a missing function is ResourceNotFoundException', async () => {
    const missing = unique('js-missing');
    await assert.rejects(client.send(new GetFunctionCommand({ FunctionName: missing })), (err) => {
      assert.equal(err.name, 'ResourceNotFoundException');
      assert.equal(err.$metadata.httpStatusCode, 404);
      assert.equal(err.message, `Function not found: ${ARN}${missing}`);
      return true;
    });
  });

  test('DeleteFunction → GetFunction rejects', async () => {
    const out = await client.send(new DeleteFunctionCommand({ FunctionName: name }));
    assert.equal(out.$metadata.httpStatusCode, 204);
    await assert.rejects(client.send(new GetFunctionCommand({ FunctionName: name })), (err) => {
      assert.equal(err.name, 'ResourceNotFoundException');
      assert.equal(err.$metadata.httpStatusCode, 404);
      assert.equal(err.message, `Function not found: ${ARN}${name}`);
      return true;
    });
    await assert.rejects(client.send(new InvokeCommand({ FunctionName: name, Payload: encode({}) })),
      (err) => err.name === 'ResourceNotFoundException');
  });

  test('PutFunctionConcurrency 0 → Invoke is throttled', async () => {
    const throttled = unique('js-conc0');
    await client.send(new CreateFunctionCommand({
      FunctionName: throttled, Runtime: 'python3.12', Role: ROLE, Handler: 'app.handler', Code: { ZipFile: zips.v1 },
    }));
    await waitUntilFunctionActiveV2({ client, ...WAIT }, { FunctionName: throttled });
    const out = await client.send(new PutFunctionConcurrencyCommand({ FunctionName: throttled, ReservedConcurrentExecutions: 0 }));
    assert.equal(out.ReservedConcurrentExecutions, 0);
    await assert.rejects(client.send(new InvokeCommand({ FunctionName: throttled, Payload: encode({}) })), (err) => {
      assert.equal(err.name, 'TooManyRequestsException');
      assert.equal(err.$metadata.httpStatusCode, 429);
      assert.equal(err.Reason, 'ReservedFunctionConcurrentInvocationLimitExceeded');
      return true;
    });
    await client.send(new DeleteFunctionCommand({ FunctionName: throttled }));
  });
});
