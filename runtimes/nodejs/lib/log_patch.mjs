// Replaces console.* so that every record carries time, request id and level, as Lambda's
// Node.js runtime writes them: text `<ISO time>\t<request id>\t<LEVEL>\t<message>` (newlines
// in the message become CR so a record stays one line) or, with AWS_LAMBDA_LOG_FORMAT=JSON,
// one JSON object per record. AWS_LAMBDA_LOG_LEVEL filters records.
import util from 'node:util';
import { intoError, toFormatted } from './errors.mjs';

const LEVELS = Object.freeze({
  TRACE: { name: 'TRACE', priority: 1 },
  DEBUG: { name: 'DEBUG', priority: 2 },
  INFO: { name: 'INFO', priority: 3 },
  WARN: { name: 'WARN', priority: 4 },
  ERROR: { name: 'ERROR', priority: 5 },
  FATAL: { name: 'FATAL', priority: 6 },
});

// Shared through the global object so that every copy of this module agrees.
const REQUEST_ID = Symbol.for('aws.lambda.runtime.requestId');
const TENANT_ID = Symbol.for('aws.lambda.runtime.tenantId');

export function setCurrentRequestId(id) {
  globalThis[REQUEST_ID] = id;
}

export function setCurrentTenantId(id) {
  globalThis[TENANT_ID] = id;
}

// Several invocations at once (concurrent.mjs): a record takes the ids of the invocation whose
// async context writes it, from the invoke store, instead of the globals above.
const STORE = Symbol.for('aws.lambda.runtime.invokeStore');

export function readIdsFromStore(store) {
  globalThis[STORE] = store;
}

function currentRequestId() {
  const store = globalThis[STORE];
  return store ? store.requestIdOrUndefined() : globalThis[REQUEST_ID];
}

function currentTenantId() {
  const store = globalThis[STORE];
  return store ? store.getTenantId() : globalThis[TENANT_ID];
}

function errorFields(err) {
  return {
    errorType: err?.constructor?.name ?? 'UnknownError',
    errorMessage: err.message,
    stackTrace: typeof err.stack === 'string' ? err.stack.split('\n') : err.stack,
  };
}

function jsonReplacer(_key, value) {
  return value instanceof Error ? Object.assign(errorFields(value), value) : value;
}

export function formatJsonRecord(requestId, timestamp, level, ...params) {
  const record = { timestamp, level: level.name, requestId };
  const tenantId = currentTenantId();
  if (tenantId !== undefined && tenantId !== null) record.tenantId = tenantId;
  if (params.length === 1) {
    record.message = params[0];
    try {
      return JSON.stringify(record, jsonReplacer);
    } catch {
      record.message = util.format(record.message);
      return JSON.stringify(record);
    }
  }
  record.message = util.format(...params);
  const err = params.find((p) => p instanceof Error);
  if (err) {
    const f = errorFields(err);
    record.errorType = f.errorType;
    record.errorMessage = f.errorMessage;
    record.stackTrace = typeof err.stack === 'string' ? f.stackTrace : [];
  }
  return JSON.stringify(record);
}

export function formatTextRecord(requestId, timestamp, level, ...params) {
  return `${timestamp}\t${requestId}\t${level.name}\t${util.format(...params)}`;
}

function writeRecord(line) {
  // Pipes are written synchronously on Linux, so the line is out before the response.
  process.stdout.write(line.replace(/\n/g, '\r') + '\n');
}

/** console.error of an error as the runtime reports it ("Invoke Error", "Uncaught Exception"). */
export const structuredConsole = { logError: () => {} };

export function patchConsole(env = process.env) {
  const json = env.AWS_LAMBDA_LOG_FORMAT?.toUpperCase() === 'JSON';
  const format = json ? formatJsonRecord : formatTextRecord;
  const log = (level, ...params) =>
    writeRecord(format(currentRequestId(), new Date().toISOString(), level, ...params));
  const threshold = LEVELS[env.AWS_LAMBDA_LOG_LEVEL?.toUpperCase()] ?? LEVELS.TRACE;
  const nop = () => {};
  const method = (level) =>
    level.priority >= threshold.priority ? (msg, ...params) => log(level, msg, ...params) : nop;

  console.trace = method(LEVELS.TRACE);
  console.debug = method(LEVELS.DEBUG);
  console.info = method(LEVELS.INFO);
  console.log = console.info;
  console.warn = method(LEVELS.WARN);
  console.error = method(LEVELS.ERROR);
  console.fatal = (msg, ...params) => log(LEVELS.FATAL, msg, ...params);

  structuredConsole.logError = json
    ? (_message, err) => console.error(intoError(err))
    : (message, err) => console.error(message, toFormatted(intoError(err)));
}
