// Tenant isolation (tests/e2e/js/tenancy.test.mjs): what an environment has served, and for whom.
const seen = [];  // lives as long as the environment

export const handler = async (event, context) => {
  seen.push(context.tenantId);
  return { pid: process.pid, tenant: context.tenantId, seen };
};
