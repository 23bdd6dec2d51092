// The current invocation when several run at once (Lambda Managed Instances, concurrent.mjs):
// its request id, X-Ray trace id and tenant id live in the async context the invocation runs in
// (AsyncLocalStorage), not in globals or process.env, so that a log line, a timer or a library
// call made for one invocation sees that one. It is also `awslambda.InvokeStore`, with the
// methods of @aws/lambda-invoke-store, which libraries (X-Ray, Powertools) read on Lambda in this
// mode: that package uses the runtime's store when the global has one.
import { createRequire } from 'node:module';

// node:async_hooks only in this mode: the classic runtime's start does not load it.
const requireForStore = createRequire(import.meta.url);

const PROTECTED_KEYS = Object.freeze({
  REQUEST_ID: Symbol.for('_AWS_LAMBDA_REQUEST_ID'),
  X_RAY_TRACE_ID: Symbol.for('_AWS_LAMBDA_X_RAY_TRACE_ID'),
  TENANT_ID: Symbol.for('_AWS_LAMBDA_TENANT_ID'),
});
const PROTECTED = new Set(Object.values(PROTECTED_KEYS));

export class InvokeStore {
  static PROTECTED_KEYS = PROTECTED_KEYS;

  constructor() {
    const { AsyncLocalStorage } = requireForStore('node:async_hooks');
    this.storage = new AsyncLocalStorage();
  }

  /** Runs fn in a new invocation's context. */
  runInvocation(requestId, traceId, tenantId, fn) {
    return this.run(
      {
        [PROTECTED_KEYS.REQUEST_ID]: requestId,
        [PROTECTED_KEYS.X_RAY_TRACE_ID]: traceId,
        [PROTECTED_KEYS.TENANT_ID]: tenantId,
      },
      fn,
    );
  }

  run(context, fn) {
    return this.storage.run(context, fn);
  }

  getContext() {
    return this.storage.getStore();
  }

  hasContext() {
    return this.storage.getStore() !== undefined;
  }

  get(key) {
    return this.storage.getStore()?.[key];
  }

  set(key, value) {
    if (this.isProtectedKey(key)) throw new Error(`Cannot modify protected Lambda context field: ${String(key)}`);
    const context = this.storage.getStore();
    if (!context) throw new Error('No context available');
    context[key] = value;
  }

  isProtectedKey(key) {
    return PROTECTED.has(key);
  }

  /** For log records, which leave it out outside an invocation as the classic runtime does. */
  requestIdOrUndefined() {
    return this.get(PROTECTED_KEYS.REQUEST_ID);
  }

  /** The library's contract: "-" outside an invocation. */
  getRequestId() {
    return this.get(PROTECTED_KEYS.REQUEST_ID) ?? '-';
  }

  getXRayTraceId() {
    return this.get(PROTECTED_KEYS.X_RAY_TRACE_ID);
  }

  getTenantId() {
    return this.get(PROTECTED_KEYS.TENANT_ID);
  }
}
