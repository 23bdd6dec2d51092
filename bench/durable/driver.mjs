// bench/durable.sh's client: invokes the bench functions with @aws-sdk/client-lambda and prints
// one line per measurement. usage: node driver.mjs ENDPOINT RUNS STEPS CHECKPOINTS
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';

const [endpoint, runs, stepCount, checkpoints] = [process.argv[2], +process.argv[3], +process.argv[4], +process.argv[5]];
const client = new LambdaClient({
  endpoint, region: 'us-east-1', maxAttempts: 1, credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
});
const encode = (v) => new TextEncoder().encode(JSON.stringify(v));
const invoke = async (name, payload) => {
  const started = process.hrtime.bigint();
  const out = await client.send(new InvokeCommand({ FunctionName: name, Payload: encode(payload) }));
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (out.FunctionError) throw new Error(`${name}: ${new TextDecoder().decode(out.Payload)}`);
  return { ms, result: JSON.parse(new TextDecoder().decode(out.Payload)) };
};
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };

// Warm-up: an environment of each function.
await invoke('Steps:$LATEST', { n: 1 });
await invoke('Loop', { n: 1 });
await invoke('Raw:$LATEST', { n: 1 });
const rows = { steps0: [], stepsN: [], loopN: [], raw: [] };
for (let r = 1; r <= runs; r++) {
  const s0 = await invoke('Steps:$LATEST', { n: 0 });
  const sn = await invoke('Steps:$LATEST', { n: stepCount });
  const ln = await invoke('Loop', { n: stepCount });
  const raw = await invoke('Raw:$LATEST', { n: checkpoints });
  const rate = raw.result.checkpoints / raw.result.ms * 1000;
  console.log(`run ${r}: execution of 0 steps ${s0.ms.toFixed(1)} ms, of ${stepCount} steps ${sn.ms.toFixed(1)} ms; ` +
    `plain loop ${ln.ms.toFixed(1)} ms; ${checkpoints} raw checkpoints in ${raw.result.ms.toFixed(1)} ms (${rate.toFixed(0)}/s)`);
  rows.steps0.push(s0.ms); rows.stepsN.push(sn.ms); rows.loopN.push(ln.ms); rows.raw.push(rate);
}
const perStep = (median(rows.stepsN) - median(rows.steps0)) / stepCount;
console.log('');
console.log(`median: one step costs ${(perStep * 1000).toFixed(0)} us (execution of ${stepCount} steps minus one of 0, over ${stepCount}); ` +
  `an empty execution ${median(rows.steps0).toFixed(1)} ms against a plain invoke ${median(rows.loopN).toFixed(1)} ms`);
console.log(`median: ${median(rows.raw).toFixed(0)} checkpoints/s, one at a time from one execution (each a round trip: START and SUCCEED of a step)`);
