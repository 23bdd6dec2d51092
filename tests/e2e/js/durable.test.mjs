// Durable executions (lambda-spec §10, docs/decisions/026): the official
// @aws/durable-execution-sdk-js, unmodified, runs the workflows of functions/durable/index.mjs
// inside lambdad, checkpointing through the daemon's Invoke API; the test drives them with
// @aws-sdk/client-lambda's durable commands. Waits and retry delays run 3600 times faster
// (--durable-time-scale), so the hour's wait takes a second.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { FUNCTIONS, REPO, loadLambdaSdk, makeLambdaClient, startDaemon } from './daemon.mjs';

const sdk = await loadLambdaSdk();
const {
  LambdaClient, InvokeCommand, GetDurableExecutionCommand, GetDurableExecutionHistoryCommand,
  SendDurableExecutionCallbackSuccessCommand, StopDurableExecutionCommand, ListDurableExecutionsByFunctionCommand,
  CheckpointDurableExecutionCommand, SendDurableExecutionCallbackFailureCommand,
} = sdk;

const SOURCE = path.join(FUNCTIONS, 'durable');
const NODE_MODULES = path.join(REPO, 'node_modules');
const SDK = '@aws/durable-execution-sdk-js';
const decode = (bytes) => new TextDecoder().decode(bytes);
const encode = (value) => new TextEncoder().encode(JSON.stringify(value));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// The SDK's package and its dependencies, copied with the code (a deployed function ships them).
function packagesNeeded(top) {
  const needed = new Set();
  const queue = [top];
  while (queue.length) {
    const name = queue.pop();
    if (needed.has(name)) continue;
    const manifest = path.join(NODE_MODULES, name, 'package.json');
    if (!fs.existsSync(manifest)) throw new Error(`${name} is not installed in ${NODE_MODULES}; run \`npm ci\``);
    needed.add(name);
    queue.push(...Object.keys(JSON.parse(fs.readFileSync(manifest, 'utf8')).dependencies ?? {}));
  }
  return [...needed];
}

export function writeDurableTemplate(dir) {
  const code = path.join(dir, 'code');
  fs.mkdirSync(code, { recursive: true });
  fs.copyFileSync(path.join(SOURCE, 'index.mjs'), path.join(code, 'index.mjs'));
  for (const name of packagesNeeded(SDK)) {
    fs.cpSync(path.join(NODE_MODULES, name), path.join(code, 'node_modules', name), { recursive: true });
  }
  const template = path.join(dir, 'template.yaml');
  fs.writeFileSync(template, fs.readFileSync(path.join(SOURCE, 'template.yaml'), 'utf8').replaceAll('CODE_DIR', code));
  return template;
}

// The operations an execution's history shows, each with its last status, in the order they began.
function operationsOf(events) {
  const ops = new Map();
  const status = { Started: 'STARTED', Succeeded: 'SUCCEEDED', Failed: 'FAILED', TimedOut: 'TIMED_OUT', Stopped: 'STOPPED', Cancelled: 'CANCELLED' };
  for (const ev of events) {
    const m = /^(Step|Wait|Context|Callback|ChainedInvoke)(Started|Succeeded|Failed|TimedOut|Stopped|Cancelled)$/.exec(ev.EventType);
    if (!m) continue;
    const type = { Step: 'STEP', Wait: 'WAIT', Context: 'CONTEXT', Callback: 'CALLBACK', ChainedInvoke: 'CHAINED_INVOKE' }[m[1]];
    const op = ops.get(ev.Id) ?? { Id: ev.Id, ParentId: ev.ParentId, Type: type, SubType: ev.SubType, Name: ev.Name };
    op.Status = status[m[2]];
    ops.set(ev.Id, op);
  }
  return [...ops.values()];
}

describe('durable executions with @aws/durable-execution-sdk-js', () => {
  let dir;
  let daemon;
  let client;

  const history = async (arn) => {
    const events = [];
    let marker;
    do {
      const page = await client.send(new GetDurableExecutionHistoryCommand({
        DurableExecutionArn: arn, IncludeExecutionData: true, MaxItems: 5, Marker: marker,
      }));
      events.push(...page.Events);
      marker = page.NextMarker;
    } while (marker);
    return events;
  };
  const until = async (arn, predicate, what) => {
    for (let i = 0; i < 300; i++) {
      const events = await history(arn);
      if (predicate(events)) return events;
      await sleep(100);
    }
    throw new Error(`${arn}: no ${what} in 30 s; log:\n${daemon.logs().slice(-4000)}`);
  };
  const finished = async (arn) => {
    for (let i = 0; i < 300; i++) {
      const e = await client.send(new GetDurableExecutionCommand({ DurableExecutionArn: arn }));
      if (e.Status !== 'RUNNING') return e;
      await sleep(100);
    }
    throw new Error(`${arn} still RUNNING after 30 s`);
  };
  const startEvent = async (name, executionName, payload = {}) => {
    const out = await client.send(new InvokeCommand({
      FunctionName: `${name}:$LATEST`, InvocationType: 'Event', DurableExecutionName: executionName, Payload: encode(payload),
    }));
    assert.equal(out.StatusCode, 202);
    assert.match(out.DurableExecutionArn, new RegExp(`:function:${name}:\\$LATEST/durable-execution/${executionName}/`));
    return out.DurableExecutionArn;
  };

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lambdad-durable-'));
    daemon = await startDaemon(writeDurableTemplate(dir), '--durable-time-scale', '3600');
    client = makeLambdaClient(LambdaClient, daemon.endpoint);
  });

  after(async () => {
    client?.destroy();
    await daemon?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('a step that fails twice succeeds on its third attempt; the first step is never run again', async () => {
    const out = await client.send(new InvokeCommand({
      FunctionName: 'Steps:$LATEST', DurableExecutionName: 'steps-1', Payload: encode({ n: 2 }),
    }));
    assert.equal(out.StatusCode, 200);
    assert.equal(out.FunctionError, undefined);
    assert.deepEqual(JSON.parse(decode(out.Payload)), { attempts: 3, value: 20 });
    const arn = out.DurableExecutionArn;
    assert.match(arn, /^arn:aws:lambda:us-east-1:123456789012:function:Steps:\$LATEST\/durable-execution\/steps-1\/[0-9a-f-]+$/);
    const e = await client.send(new GetDurableExecutionCommand({ DurableExecutionArn: arn }));
    assert.equal(e.Status, 'SUCCEEDED');
    assert.equal(e.DurableExecutionName, 'steps-1');
    assert.equal(e.Version, '$LATEST');
    assert.ok(e.StartTimestamp instanceof Date && e.EndTimestamp >= e.StartTimestamp);
    const events = await history(arn);
    const count = (type, name) => events.filter((ev) => ev.EventType === type && ev.Name === name).length;
    assert.equal(count('StepStarted', 'prepare'), 1, 'a completed step is replayed, not run again');
    assert.equal(count('StepSucceeded', 'prepare'), 1);
    assert.equal(count('StepSucceeded', 'flaky'), 1);
    assert.equal(events.filter((ev) => ev.EventType === 'InvocationCompleted').length, 3, 'one invocation per attempt');
    assert.equal(events.at(-1).EventType, 'ExecutionSucceeded');
    assert.deepEqual(events.map((ev) => ev.EventId), events.map((_, i) => i + 1));
  });

  test('parallel branches and a map', async () => {
    const out = await client.send(new InvokeCommand({ FunctionName: 'ParallelMap:$LATEST', Payload: encode({}) }));
    assert.equal(out.FunctionError, undefined, decode(out.Payload));
    assert.deepEqual(JSON.parse(decode(out.Payload)), { parallel: ['A', 'B', 'C'], map: [2, 4, 6] });
    const ops = operationsOf(await history(out.DurableExecutionArn));
    assert.deepEqual(ops.filter((op) => op.Type === 'CONTEXT').map((op) => op.SubType).sort(),
      ['Map', 'MapIteration', 'MapIteration', 'MapIteration', 'Parallel', 'ParallelBranch', 'ParallelBranch', 'ParallelBranch']);
    assert.ok(ops.every((op) => op.Status === 'SUCCEEDED'));
  });

  test("an hour's wait takes about a second at time scale 3600, and its history keeps the hour", async () => {
    const started = Date.now();
    const out = await client.send(new InvokeCommand({ FunctionName: 'WaitHour:$LATEST', Payload: encode({}) }));
    const elapsed = Date.now() - started;
    assert.deepEqual(JSON.parse(decode(out.Payload)), { before: 'before-ran', after: 'after-ran' });
    assert.ok(elapsed < 20000, `took ${elapsed} ms`);
    const events = await history(out.DurableExecutionArn);
    const wait = events.find((ev) => ev.EventType === 'WaitStarted');
    assert.equal(wait.WaitStartedDetails.Duration, 3600);
    const scheduled = wait.WaitStartedDetails.ScheduledEndTimestamp.getTime() - wait.EventTimestamp.getTime();
    assert.ok(Math.abs(scheduled - 3600_000) < 1000, `scheduled ${scheduled} ms after the start`);
    const done = events.find((ev) => ev.EventType === 'WaitSucceeded');
    assert.ok(done.EventTimestamp.getTime() - wait.EventTimestamp.getTime() >= 3600_000, 'the wait ends an hour later in the record');
  });

  test('a callback completed with SendDurableExecutionCallbackSuccess; an idempotent start; a second answer is refused', async () => {
    const arn = await startEvent('Callback', 'cb-1', { order: 7 });
    assert.equal(await startEvent('Callback', 'cb-1', { order: 7 }), arn, 'the same name and input: the same execution');
    await assert.rejects(client.send(new InvokeCommand({
      FunctionName: 'Callback:$LATEST', InvocationType: 'Event', DurableExecutionName: 'cb-1', Payload: encode({ order: 8 }),
    })), (err) => err.name === 'DurableExecutionAlreadyStartedException' && err.$metadata.httpStatusCode === 409);
    const events = await until(arn, (evs) => evs.some((ev) => ev.EventType === 'CallbackStarted'), 'CallbackStarted');
    const callbackId = events.find((ev) => ev.EventType === 'CallbackStarted').CallbackStartedDetails.CallbackId;
    await client.send(new SendDurableExecutionCallbackSuccessCommand({ CallbackId: callbackId, Result: encode('approved') }));
    const e = await finished(arn);
    assert.equal(e.Status, 'SUCCEEDED');
    assert.equal(JSON.parse(e.Result), 'approved');
    await assert.rejects(client.send(new SendDurableExecutionCallbackFailureCommand({ CallbackId: callbackId, Error: { ErrorMessage: 'late' } })),
      (err) => err.name === 'InvalidParameterValueException');
    await assert.rejects(client.send(new SendDurableExecutionCallbackSuccessCommand({ CallbackId: 'bm8tc3VjaA==', Result: encode(1) })),
      (err) => err.$metadata.httpStatusCode === 404);
  });

  test('a chained invoke of a second function', async () => {
    const out = await client.send(new InvokeCommand({ FunctionName: 'Chained:$LATEST', Payload: encode({ n: 21 }) }));
    assert.equal(out.FunctionError, undefined, decode(out.Payload));
    assert.deepEqual(JSON.parse(decode(out.Payload)), { target: { doubled: 42 } });
    const events = await history(out.DurableExecutionArn);
    assert.deepEqual(events.filter((ev) => ev.EventType.startsWith('ChainedInvoke')).map((ev) => ev.EventType),
      ['ChainedInvokeStarted', 'ChainedInvokeSucceeded']);
  });

  test('a failing workflow ends FAILED and the synchronous invoke says so', async () => {
    const out = await client.send(new InvokeCommand({ FunctionName: 'Failing:$LATEST', Payload: encode({}) }));
    assert.equal(out.StatusCode, 200);
    assert.equal(out.FunctionError, 'Unhandled');
    assert.equal(JSON.parse(decode(out.Payload)).ErrorMessage, 'boom');
    const e = await client.send(new GetDurableExecutionCommand({ DurableExecutionArn: out.DurableExecutionArn }));
    assert.equal(e.Status, 'FAILED');
    assert.equal(e.Error.ErrorMessage, 'boom');
  });

  test('StopDurableExecution stops a waiting execution; what it no longer takes is refused and changes nothing', async () => {
    const arn = await startEvent('Stoppable', 'stop-1');
    // Once its invocation has ended: it waits for the callback, suspended.
    await until(arn, (evs) => evs.some((ev) => ev.EventType === 'InvocationCompleted'), 'InvocationCompleted');
    const stopped = await client.send(new StopDurableExecutionCommand({ DurableExecutionArn: arn, Error: { ErrorMessage: 'enough' } }));
    assert.ok(stopped.StopTimestamp instanceof Date);
    const e = await client.send(new GetDurableExecutionCommand({ DurableExecutionArn: arn }));
    assert.equal(e.Status, 'STOPPED');
    const before = await history(arn);
    assert.equal(before.at(-1).EventType, 'ExecutionStopped');
    await assert.rejects(client.send(new StopDurableExecutionCommand({ DurableExecutionArn: arn })),
      (err) => err.name === 'InvalidParameterValueException');
    await assert.rejects(client.send(new CheckpointDurableExecutionCommand({
      DurableExecutionArn: arn, CheckpointToken: 'c3RhbGU=', Updates: [{ Id: 'x', Type: 'STEP', Action: 'START' }],
    })), (err) => err.name === 'InvalidParameterValueException' && /^Invalid Checkpoint Token/.test(err.message));
    assert.deepEqual(await history(arn), before);
    await assert.rejects(client.send(new GetDurableExecutionCommand({ DurableExecutionArn: `${arn}-nope` })),
      (err) => err.name === 'ResourceNotFoundException');
    const listed = await client.send(new ListDurableExecutionsByFunctionCommand({ FunctionName: 'Stoppable', Statuses: ['STOPPED'] }));
    assert.deepEqual(listed.DurableExecutions.map((x) => x.DurableExecutionArn), [arn]);
    const running = await client.send(new ListDurableExecutionsByFunctionCommand({ FunctionName: 'Stoppable', Statuses: ['RUNNING'] }));
    assert.deepEqual(running.DurableExecutions, []);
    const status = await (await fetch(`${daemon.endpoint}/_lambdad/status`)).json();
    assert.ok(status.durableExecutions.STOPPED.executions.some((x) => x.arn === arn && x.name === 'stop-1'));
    assert.ok(status.durableExecutions.SUCCEEDED.count >= 1);
  });

  // The same workflows in the SDK's own local runner (@aws/durable-execution-sdk-js-testing,
  // durable_runner.mjs) and in lambdad: the same outcome and the same operations (their Ids are
  // the SDK's hashes of its step ids, so they match exactly). Compared: each operation's Id,
  // ParentId, Type, SubType, Name and final status, ordered by Id. Not compared, by design: the
  // runner's history and invocation count (its fake clock merges and splits invocations) and
  // the order operations began in (branches of a parallel may start in either order).
  const WORKFLOWS = {
    steps: ['Steps', { n: 3 }],
    parallelMap: ['ParallelMap', {}],
    waitHour: ['WaitHour', {}],
    callback: ['Callback', { order: 1 }],
    chained: ['Chained', { n: 4 }],
    failing: ['Failing', {}],
  };
  for (const [handler, [name, input]] of Object.entries(WORKFLOWS)) {
    test(`${handler}: the SDK's local runner and lambdad agree`, async () => {
      const runner = path.join(REPO, 'tests', 'e2e', 'js', 'durable_runner.mjs');
      const { stdout } = await promisify(execFile)(process.execPath, [runner, handler, JSON.stringify(input)], {
        env: { ...process.env, TARGET_FUNCTION: 'DurableTarget' }, timeout: 60000,
      });
      const reference = JSON.parse(stdout.trim().split('\n').at(-1));
      let arn;
      if (handler === 'callback') {
        arn = await startEvent(name, 'agree-callback', input);
        const events = await until(arn, (evs) => evs.some((ev) => ev.EventType === 'CallbackStarted'), 'CallbackStarted');
        const id = events.find((ev) => ev.EventType === 'CallbackStarted').CallbackStartedDetails.CallbackId;
        await client.send(new SendDurableExecutionCallbackSuccessCommand({ CallbackId: id, Result: encode({ approved: true }) }));
      } else {
        arn = (await client.send(new InvokeCommand({ FunctionName: `${name}:$LATEST`, Payload: encode(input) }))).DurableExecutionArn;
      }
      const e = await finished(arn);
      assert.equal(e.Status, reference.status);
      if (reference.status === 'SUCCEEDED') assert.deepEqual(JSON.parse(e.Result), reference.result);
      else assert.equal(e.Error.ErrorMessage, reference.error.ErrorMessage);
      const shape = (ops) => ops.map(({ Id, ParentId, Type, SubType, Name, Status }) =>
        ({ Id, ParentId: ParentId ?? null, Type, SubType, Name: Name ?? null, Status })).sort((a, b) => a.Id.localeCompare(b.Id));
      assert.deepEqual(shape(operationsOf(await history(arn))), shape(reference.operations));
    });
  }

  test('malformed checkpoint bodies and updates are refused with Lambda-shaped errors', async () => {
    const arn = encodeURIComponent(await startEvent('Stoppable', 'malformed-1'));
    const post = async (body) => {
      const r = await fetch(`${daemon.endpoint}/2025-12-01/durable-executions/${arn}/checkpoint`, {
        method: 'POST', headers: { 'Content-Type': 'application/json' }, body,
      });
      return { status: r.status, type: r.headers.get('x-amzn-errortype'), body: await r.json() };
    };
    let r = await post('{not json');
    assert.equal(r.status, 400);
    assert.equal(r.type, 'InvalidRequestContentException');
    r = await post(JSON.stringify({ Updates: [] }));
    assert.equal(r.type, 'ValidationException');
    r = await post(JSON.stringify({ CheckpointToken: 'c3RhbGU=', Updates: [{ Id: 'bad id!', Type: 'STEP', Action: 'START' }] }));
    assert.equal(r.status, 400);
    assert.equal(r.type, 'InvalidParameterValueException');
    const get = await fetch(`${daemon.endpoint}/2025-12-01/durable-executions/${arn}/state?CheckpointToken=c3RhbGU%3D`);
    assert.equal(get.status, 400);
    assert.match((await get.json()).message, /^Invalid Checkpoint Token/);
    await client.send(new StopDurableExecutionCommand({ DurableExecutionArn: decodeURIComponent(arn) }));
  });

  test('a durable function is invoked by a qualified name only; a bad execution name is refused', async () => {
    await assert.rejects(client.send(new InvokeCommand({ FunctionName: 'Steps', Payload: encode({}) })),
      (err) => err.name === 'InvalidParameterValueException');
    await assert.rejects(client.send(new InvokeCommand({ FunctionName: 'Steps:$LATEST', DurableExecutionName: 'no spaces' })),
      (err) => err.name === 'ValidationException');
  });
});

// SIGKILL of the daemon while an execution waits: a new daemon on the same --state-dir takes it
// up and completes it, and the step before the wait is not run again.
test('an execution survives a SIGKILL of the daemon', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lambdad-durable-restart-'));
  const state = path.join(dir, 'state');
  const template = writeDurableTemplate(dir);
  let daemon = await startDaemon(template, '--state-dir', state);  // time scale 1: the hour's wait holds
  let client = makeLambdaClient(LambdaClient, daemon.endpoint);
  try {
    const out = await client.send(new InvokeCommand({
      FunctionName: 'WaitHour:$LATEST', InvocationType: 'Event', DurableExecutionName: 'restart-1', Payload: encode({}),
    }));
    const arn = out.DurableExecutionArn;
    for (let i = 0; ; i++) {
      const events = (await client.send(new GetDurableExecutionHistoryCommand({ DurableExecutionArn: arn }))).Events;
      if (events.some((ev) => ev.EventType === 'InvocationCompleted')) break;  // suspended in its wait
      assert.ok(i < 300, 'the first invocation did not end in 30 s');
      await sleep(100);
    }
    process.kill(-daemon.proc.pid, 'SIGKILL');
    await daemon.exited;
    client.destroy();
    daemon = await startDaemon(template, '--state-dir', state, '--durable-time-scale', '3600');
    client = makeLambdaClient(LambdaClient, daemon.endpoint);
    let e;
    for (let i = 0; i < 300; i++) {
      e = await client.send(new GetDurableExecutionCommand({ DurableExecutionArn: arn }));
      if (e.Status !== 'RUNNING') break;
      await sleep(100);
    }
    assert.equal(e.Status, 'SUCCEEDED', daemon.logs().slice(-3000));
    assert.deepEqual(JSON.parse(e.Result), { before: 'before-ran', after: 'after-ran' });
    const events = (await client.send(new GetDurableExecutionHistoryCommand({ DurableExecutionArn: arn, MaxItems: 1000 }))).Events;
    assert.equal(events.filter((ev) => ev.EventType === 'StepStarted' && ev.Name === 'before').length, 1);
  } finally {
    client.destroy();
    await daemon.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

export { operationsOf };
