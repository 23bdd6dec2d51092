// Error types the runtime raises (named Runtime.*, as in Lambda) and the conversion of any
// thrown value into the payload posted to the Runtime API: {errorType, errorMessage, trace}.
import util from 'node:util';

export class ImportModuleError extends Error {}
export class HandlerNotFound extends Error {}
export class MalformedHandlerName extends Error {}
export class UserCodeSyntaxError extends Error {}
export class MalformedStreamingHandler extends Error {}
export class InvalidStreamingOperation extends Error {}
export class CallbackHandlerDeprecated extends Error {}
export class UnhandledPromiseRejection extends Error {
  constructor(reason, promise) {
    super(reason);
    this.reason = reason;
    this.promise = promise;
  }
}
export class NodeJsExit extends Error {
  constructor() {
    super(
      'The Lambda runtime detected that Node.js was about to exit with the invocation ' +
        'unfinished. Most often a Promise was never settled.',
    );
  }
}

for (const cls of [
  ImportModuleError,
  HandlerNotFound,
  MalformedHandlerName,
  UserCodeSyntaxError,
  MalformedStreamingHandler,
  InvalidStreamingOperation,
  CallbackHandlerDeprecated,
  UnhandledPromiseRejection,
  NodeJsExit,
]) {
  cls.prototype.name = `Runtime.${cls.name}`;
}

// Duck-typed Error: objects from other realms or libraries that look like errors.
function looksLikeError(value) {
  return (
    value &&
    typeof value.name === 'string' &&
    typeof value.message === 'string' &&
    typeof value.stack === 'string' &&
    value.name &&
    value.message &&
    value.stack
  );
}

export function intoError(value) {
  return value instanceof Error ? value : new Error(value);
}

/** The body posted to /error and /init/error. */
export function toRapidResponse(error) {
  try {
    if (util.types.isNativeError(error) || looksLikeError(error)) {
      return {
        errorType: error.name,
        errorMessage: error.message,
        trace: error.stack.split('\n'),
      };
    }
    return { errorType: typeof error, errorMessage: error.toString(), trace: [] };
  } catch {
    return {
      errorType: 'handled',
      errorMessage:
        'callback called with Error argument, but there was a problem while retrieving ' +
        'one or more of its message, name, and stack',
    };
  }
}

// Error's own fields are not enumerable; show them (and any custom ones) in logs.
function withEnumerableProperties(value) {
  if (!(value instanceof Error)) return value;
  const out = Object.assign(
    { errorType: value.name, errorMessage: value.message, code: value.code },
    value,
  );
  if (typeof value.stack === 'string') out.stack = value.stack.split('\n');
  return out;
}

/** The text-log form of an error: a tab, then JSON. */
export function toFormatted(error) {
  try {
    return '\t' + JSON.stringify(error, (_k, v) => withEnumerableProperties(v));
  } catch {
    return '\t' + JSON.stringify(toRapidResponse(error));
  }
}

/** Value of the Lambda-Runtime-Function-XRay-Error-Cause header. */
export function xrayCause(error) {
  try {
    const stack = [];
    const paths = new Set();
    const lines = typeof error?.stack === 'string' ? error.stack.split('\n').slice(1) : [];
    for (const line of lines) {
      const m = line.match(/^\s*at (?:(.*?) \()?(.*?):(\d+):\d+\)?$/);
      if (!m) continue;
      stack.push({ label: m[1] || 'anonymous', path: m[2], line: Number(m[3]) });
      paths.add(m[2]);
    }
    return JSON.stringify({
      working_directory: process.cwd(),
      exceptions: [
        { type: error?.name ?? typeof error, message: error?.message ?? String(error), stack },
      ],
      paths: [...paths],
    });
  } catch {
    return undefined;
  }
}
