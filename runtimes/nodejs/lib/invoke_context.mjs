// Reads one /next response's headers and builds the handler's context properties from them and
// from the environment (functionName, memoryLimitInMB as a string, getRemainingTimeInMillis, ...).
import { createRequire } from 'node:module';
import { setCurrentRequestId, setCurrentTenantId } from './log_patch.mjs';

// node:assert only for the invocation it refuses: loading it is a good part of a cold start.
const requireLate = createRequire(import.meta.url);

const HEADER = {
  clientContext: 'lambda-runtime-client-context',
  cognitoIdentity: 'lambda-runtime-cognito-identity',
  arn: 'lambda-runtime-invoked-function-arn',
  requestId: 'lambda-runtime-aws-request-id',
  deadlineMs: 'lambda-runtime-deadline-ms',
  traceId: 'lambda-runtime-trace-id',
  tenantId: 'lambda-runtime-aws-tenant-id',
};

function parseJsonHeader(text, name) {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`Cannot parse ${name} as json: ${err.toString()}`);
  }
}

export class InvokeContext {
  constructor(headers) {
    this.headers = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  }

  get invokeId() {
    const id = this.headers[HEADER.requestId];
    if (!id) requireLate('node:assert/strict').ok(id, 'invocation id is missing or invalid');
    return id;
  }

  get tenantId() {
    return this.headers[HEADER.tenantId];
  }

  updateLoggingContext() {
    setCurrentRequestId(this.invokeId);
    setCurrentTenantId(this.tenantId);
  }

  get traceId() {
    return this.headers[HEADER.traceId];
  }

  /** Adds the invocation's data to the callback (or streaming) context; may throw on bad headers. */
  attachEnvironmentData(context) {
    this.forwardXRay();
    return this.attachInvocationData(context);
  }

  /** The same, but process.env is left alone (several invocations at once: concurrent.mjs). */
  attachInvocationData(context) {
    const deadline = Number(this.headers[HEADER.deadlineMs]);
    return Object.assign(
      context,
      {
        functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
        functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
        memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
        logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
        logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
      },
      {
        clientContext: parseJsonHeader(this.headers[HEADER.clientContext], 'ClientContext'),
        identity: parseJsonHeader(this.headers[HEADER.cognitoIdentity], 'CognitoIdentity'),
        invokedFunctionArn: this.headers[HEADER.arn],
        awsRequestId: this.headers[HEADER.requestId],
        tenantId: this.headers[HEADER.tenantId],
        getRemainingTimeInMillis: () => deadline - Date.now(),
      },
    );
  }

  forwardXRay() {
    const trace = this.headers[HEADER.traceId];
    if (trace) {
      process.env._X_AMZN_TRACE_ID = trace;
    } else {
      delete process.env._X_AMZN_TRACE_ID;
    }
  }
}
