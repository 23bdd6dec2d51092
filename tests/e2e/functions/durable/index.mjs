// Durable workflows for lambdad's durable-execution tests (Lambda API 2025-12-01).
// Each export is a Lambda handler ("index.<name>"); all but `target` are wrapped with
// withDurableExecution from @aws/durable-execution-sdk-js and use only its public API.
// They are small and deterministic so that lambdad's GetDurableExecutionState/history
// can be compared with the SDK's own local runner (tests/e2e/js/durable_runner.mjs).
import {
  JitterStrategy,
  createRetryStrategy,
  defaultSerdes,
  withDurableExecution,
} from '@aws/durable-execution-sdk-js';

// steps: a step that fails on attempts 1 and 2 and succeeds on 3.
// The attempt number comes from the SDK (StepContext.attempt = StepDetails.Attempt + 1,
// i.e. from the service's record), never from module state: each retry is a fresh
// invocation, possibly in a fresh process. Retries send STEP/RETRY with
// StepOptions.NextAttemptDelaySeconds = 1 (no jitter, backoff rate 1).
const retryTwice = createRetryStrategy({
  maxAttempts: 3,
  initialDelay: { seconds: 1 },
  backoffRate: 1,
  jitter: JitterStrategy.NONE,
});

export const steps = withDurableExecution(async (event, context) => {
  const first = await context.step('prepare', async () => ({ input: event?.n ?? 1 }));
  const flaky = await context.step(
    'flaky',
    async (step) => {
      if (step.attempt < 3) throw new Error(`attempt ${step.attempt} fails`);
      return { attempts: step.attempt, value: first.input * 10 };
    },
    { retryStrategy: retryTwice },
  );
  return flaky; // {attempts: 3, value: 10} for {n: 1}
});

// parallelMap: context.parallel of three named branches (CONTEXT Parallel +
// ParallelBranch children, one STEP each) and context.map over [1,2,3]
// (CONTEXT Map + MapIteration children, one STEP each doubling its item).
export const parallelMap = withDurableExecution(async (event, context) => {
  const branches = await context.parallel('fan-out', [
    { name: 'a', func: async (ctx) => ctx.step('a-step', async () => 'A') },
    { name: 'b', func: async (ctx) => ctx.step('b-step', async () => 'B') },
    { name: 'c', func: async (ctx) => ctx.step('c-step', async () => 'C') },
  ]);
  const doubled = await context.map('double', [1, 2, 3], async (ctx, item) =>
    ctx.step(`double-${item}`, async () => item * 2),
  );
  // BatchResult carries methods; return plain arrays.
  return { parallel: branches.getResults(), map: doubled.getResults() };
});

// waitHour: a one-hour WAIT (WaitOptions.WaitSeconds = 3600) between two steps.
// The execution suspends (PENDING) and is re-invoked when the wait is due.
export const waitHour = withDurableExecution(async (event, context) => {
  const before = await context.step('before', async () => 'before-ran');
  await context.wait('hour', { hours: 1 });
  const after = await context.step('after', async () => 'after-ran');
  return { before, after };
});

// callback: waitForCallback = CONTEXT(WaitForCallback) holding a CALLBACK and a
// submitter STEP. The test reads the CallbackId from GetDurableExecutionState
// (CallbackDetails.CallbackId) or history (CallbackStarted), then calls
// SendDurableExecutionCallbackSuccess with a JSON result, which (parsed with
// defaultSerdes; without it the SDK hands back the raw string) is the return value.
export const callback = withDurableExecution(async (event, context) => {
  return await context.waitForCallback(
    'approval',
    async (callbackId, ctx) => {
      ctx.logger.info('callback id', { callbackId });
    },
    { serdes: defaultSerdes },
  );
});

// chained: CHAINED_INVOKE of the function named by TARGET_FUNCTION (verbatim in
// ChainedInvokeOptions.FunctionName) with payload {n: 21}; expects {doubled: 42}.
export const chained = withDurableExecution(async (event, context) => {
  const target = process.env.TARGET_FUNCTION || 'DurableTarget';
  const out = await context.invoke('call-target', target, { n: event?.n ?? 21 });
  return { target: out };
});

// target: a plain (non-durable) handler for `chained` to invoke.
export const target = async (event) => ({ doubled: event.n * 2 });

// failing: a step that throws Error("boom") with retries disabled → STEP/FAIL,
// then the execution ends FAILED (handler returns {Status: "FAILED", Error}).
export const failing = withDurableExecution(async (event, context) => {
  await context.step(
    'explode',
    async () => {
      throw new Error('boom');
    },
    { retryStrategy: () => ({ shouldRetry: false }) },
  );
  return 'unreachable';
});

// stoppable: a bare CALLBACK (createCallback) with no timeout; it never completes
// on its own, so the test ends it with StopDurableExecution.
export const stoppable = withDurableExecution(async (event, context) => {
  const [promise] = await context.createCallback('never');
  return await promise;
});
