// Reference runner: runs one workflow of tests/e2e/functions/durable/index.mjs in the
// SDK's own local backend (LocalDurableTestRunner from @aws/durable-execution-sdk-js-testing),
// with skipTime so waits and retry delays are instant, and prints ONE JSON line on stdout:
//   {"status","result","error","operations":[{"Id","ParentId","Type","SubType","Name","Status"}…]}
// plus "history" (--history) and "updates" (--updates) when asked; status is the execution's
// (SUCCEEDED|FAILED), or THROWN when an invocation threw. Everything else the handlers or
// the SDK log goes to stderr.
//
// usage: node durable_runner.mjs <handler> [input-json] [--callback-result STR] [--history] [--updates]
//   callback   the runner completes the callback with STR (default {"approved":true})
//   chained    `target` is registered under $TARGET_FUNCTION (default DurableTarget)
//   stoppable  the local runner has no StopDurableExecution: once the callback has
//              started it prints status "RUNNING" and the operations so far, then exits
// Operation Ids are the SDK's md5 hashes of its step ids, so they are deterministic and
// should equal the Ids lambdad records for the same workflow and input.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LocalDurableTestRunner, WaitingOperationStatus } from '@aws/durable-execution-sdk-js-testing';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const workflows = await import(path.join(HERE, '..', 'functions', 'durable', 'index.mjs'));

const args = process.argv.slice(2);
const flag = (name) => {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const [, value] = args.splice(i, 2);
  return value;
};
const has = (name) => {
  const i = args.indexOf(name);
  if (i >= 0) args.splice(i, 1);
  return i >= 0;
};
const callbackResult = flag('--callback-result') ?? '{"approved":true}';
const withHistory = has('--history');
const withUpdates = has('--updates');
const [name, input = '{}'] = args;
const handler = workflows[name];
if (!name || typeof handler !== 'function' || name === 'target') {
  process.stderr.write(`usage: durable_runner.mjs <${Object.keys(workflows).filter((k) => k !== 'target').join('|')}> [input-json]\n`);
  process.exit(2);
}

// Keep stdout for the one JSON line: console.* and the SDK's default logger (a
// node:console Console on process.stdout) both go through process.stdout.write.
const writeStdout = process.stdout.write.bind(process.stdout);
process.stdout.write = process.stderr.write.bind(process.stderr);

// --updates: record every OperationUpdate the SDK checkpoints. The local runner hands the
// handler its in-process transport on the event (event.durableExecutionClient); wrapping
// it is a test-only hook, not SDK API.
const updates = [];
const traced = !withUpdates ? handler : (event, ctx) => {
  const inner = event.durableExecutionClient;
  event.durableExecutionClient = {
    getExecutionState: (params, logger) => inner.getExecutionState(params, logger),
    checkpoint: (params, logger) => {
      updates.push(...(params.Updates ?? []));
      return inner.checkpoint(params, logger);
    },
  };
  return handler(event, ctx);
};

const summary = (op) => ({
  Id: op.getId(),
  ParentId: op.getParentId(),
  Type: op.getType(),
  SubType: op.getSubType(),
  Name: op.getName(),
  Status: op.getStatus(),
});
const errorObject = (e) => e && { ErrorType: e.errorType, ErrorMessage: e.errorMessage, ErrorData: e.errorData };

await LocalDurableTestRunner.setupTestEnvironment({ skipTime: true });
const runner = new LocalDurableTestRunner({ handlerFunction: traced });
const targetName = process.env.TARGET_FUNCTION || 'DurableTarget';
runner.registerFunction(targetName, workflows.target); // used by `chained` via context.invoke

const emit = (out) => {
  if (withUpdates) out.updates = updates;
  writeStdout(`${JSON.stringify(out)}\n`);
};

const running = runner.run({ payload: JSON.parse(input) });
// An invocation that throws (e.g. an unparsable callback result: SerdesFailedError) rejects
// the run; in Lambda it would be an invocation error and a re-invoke.
running.catch((err) => {
  emit({ status: 'THROWN', result: null, error: { ErrorType: err?.name, ErrorMessage: err?.message }, operations: [] });
  process.exit(1);
});

if (name === 'stoppable') {
  // No stop API locally: report the state once the callback is waiting, then leave.
  await runner.getOperation('never').waitForData(WaitingOperationStatus.STARTED);
  await new Promise((resolve) => setImmediate(resolve));
  const operations = [];
  for (let i = 0; runner.getOperationByIndex(i).getOperationData(); i++) {
    operations.push(summary(runner.getOperationByIndex(i)));
  }
  emit({ status: 'RUNNING', result: null, error: null, operations });
  process.exit(0);
}

if (name === 'callback') {
  // waitForCallback: SUBMITTED fires once the submitter step has completed.
  const op = runner.getOperation('approval');
  await op.waitForData(WaitingOperationStatus.SUBMITTED);
  await op.sendCallbackSuccess(callbackResult);
}

const execution = await running;
const status = execution.getStatus();
const out = {
  status,
  result: status === 'SUCCEEDED' ? execution.getResult() ?? null : null,
  error: status === 'SUCCEEDED' ? null : errorObject(execution.getError()),
  operations: execution.getOperations().map(summary),
};
if (withHistory) {
  out.history = execution.getHistoryEvents().map((e) => ({
    EventId: e.EventId, EventType: e.EventType, SubType: e.SubType, Name: e.Name, Id: e.Id,
  }));
}
emit(out);
await LocalDurableTestRunner.teardownTestEnvironment();
process.exit(0);
