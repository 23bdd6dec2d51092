// Functions of bench/durable.sh (the durable-execution SDK and @aws-sdk/client-lambda are copied
// next to this file by the script).
import { CheckpointDurableExecutionCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { withDurableExecution } from '@aws/durable-execution-sdk-js';

// steps: event.n steps, each returning its index (one checkpoint round trip, or more, per step).
export const steps = withDurableExecution(async (event, context) => {
  let sum = 0;
  for (let i = 0; i < (event?.n ?? 0); i++) sum += await context.step(`s${i}`, async () => i);
  return { n: event?.n ?? 0, sum };
});

// loop: the same loop without steps, in a plain function (the baseline).
export const loop = async (event) => {
  let sum = 0;
  for (let i = 0; i < (event?.n ?? 0); i++) sum += await (async () => i)();
  return { n: event?.n ?? 0, sum };
};

// raw: event.n CheckpointDurableExecution calls one after another, each starting and ending one
// step, straight from @aws-sdk/client-lambda (no SDK batching); answers the durable result itself.
const client = new LambdaClient({});
export const raw = async (event) => {
  let token = event.CheckpointToken;
  const input = JSON.parse(event.InitialExecutionState.Operations[0].ExecutionDetails.InputPayload);
  const started = process.hrtime.bigint();
  for (let i = 0; i < input.n; i++) {
    const out = await client.send(new CheckpointDurableExecutionCommand({
      DurableExecutionArn: event.DurableExecutionArn,
      CheckpointToken: token,
      Updates: [{ Id: `r${i}`, Type: 'STEP', Action: 'START' }, { Id: `r${i}`, Type: 'STEP', Action: 'SUCCEED', Payload: String(i) }],
    }));
    token = out.CheckpointToken;
  }
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  return { Status: 'SUCCEEDED', Result: JSON.stringify({ checkpoints: input.n, ms }) };
};
