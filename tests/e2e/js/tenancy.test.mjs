// Tenant isolation (lambda-spec §12) through @aws-sdk/client-lambda's TenantId: a PER_TENANT Node
// function's environments each serve one tenant; GetFunctionConfiguration shows TenancyConfig.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { FUNCTIONS, loadLambdaSdk, makeLambdaClient, startDaemon } from './daemon.mjs';

const { LambdaClient, InvokeCommand, GetFunctionConfigurationCommand } = await loadLambdaSdk();
let daemon;
let client;

before(async () => {
  daemon = await startDaemon(path.join(FUNCTIONS, 'tenancy', 'template.yaml'));
  client = makeLambdaClient(LambdaClient, daemon.endpoint);
});
after(async () => {
  client?.destroy();
  await daemon?.stop();
});

const invoke = async (tenant) => {
  const out = await client.send(new InvokeCommand({ FunctionName: 'NodeTenants', TenantId: tenant }));
  assert.equal(out.FunctionError, undefined);
  return JSON.parse(new TextDecoder().decode(out.Payload));
};

test('tenants A, B, A: A is warm in its own environment, B cold in another', async () => {
  const a1 = await invoke('tenant-a');
  const b1 = await invoke('tenant-b');
  const a2 = await invoke('tenant-a');
  assert.equal(a1.tenant, 'tenant-a');
  assert.equal(b1.tenant, 'tenant-b');
  assert.equal(a2.pid, a1.pid);
  assert.notEqual(b1.pid, a1.pid);
  assert.deepEqual(a2.seen, ['tenant-a', 'tenant-a']);
  assert.deepEqual(b1.seen, ['tenant-b']);
});

test('an invoke without a tenant is refused; TenancyConfig is in the configuration', async () => {
  await assert.rejects(client.send(new InvokeCommand({ FunctionName: 'NodeTenants' })),
    (err) => err.name === 'InvalidParameterValueException' && /enabled with tenancy configuration/.test(err.message));
  const config = await client.send(new GetFunctionConfigurationCommand({ FunctionName: 'NodeTenants' }));
  assert.deepEqual(config.TenancyConfig, { TenantIsolationMode: 'PER_TENANT' });
});
