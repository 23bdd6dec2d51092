// HTTP client of the Runtime API (2018-06-01): one keep-alive socket, no timeout on the
// /next long poll, over our own HTTP framing (http_connection.mjs) so that patches of http,
// https or fetch by the function's libraries never touch it. A status other than the documented
// success (200 for /next, 202 for posts) is fatal: the runtime logs it to stderr and exits 1.
// Except 413 for a response: the invoke has failed (Function.ResponseSizeTooLarge), and the
// runtime goes on to the next one, as the managed runtime does. With several invocations at once
// (Lambda Managed Instances, concurrent.mjs) a post the Runtime API refuses (its invoke timed out:
// 410) is logged and the runtime goes on, as Lambda's client does in that mode.
import { HttpConnection } from './http_connection.mjs';
import { toRapidResponse, xrayCause } from './errors.mjs';

const PREFIX = '/2018-06-01/runtime';
const ERROR_TYPE_HEADER = 'Lambda-Runtime-Function-Error-Type';
const XRAY_CAUSE_HEADER = 'Lambda-Runtime-Function-XRay-Error-Cause';
const MAX_XRAY_CAUSE = 1024 * 1024;

function headerSafe(value) {
  return typeof value === 'string' && /^[\x20-\x7e]+$/.test(value);
}

// JSON with every non-ASCII character escaped, so it is a valid header value.
function asciiJson(text) {
  return text.replace(/[\u007f-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

// Writes to a full stdout/stderr pipe are queued by Node, not blocking. Wait until the
// function's output is out before posting (so its lines precede the response) or exiting.
function outputFlushed() {
  const pending = [process.stdout, process.stderr].filter((s) => s.writableLength > 0);
  return Promise.all(pending.map((s) => new Promise((resolve) => s.write('', resolve))));
}

/** Exits once stdout and stderr are written out. */
export function exitAfterFlush(code) {
  outputFlushed().then(() => process.exit(code));
}

/** JSON.stringify that reports failure the way Lambda's runtime does. */
export function serializeResult(value) {
  try {
    return JSON.stringify(value === undefined ? null : value);
  } catch {
    throw new Error('Unable to stringify response body');
  }
}

export class RuntimeApiClient {
  constructor(address, { tolerateRefusedPosts = false } = {}) {
    const i = address.lastIndexOf(':');
    this.hostname = address.slice(0, i);
    this.port = Number(address.slice(i + 1));
    this.connection = new HttpConnection(this.hostname, this.port);
    this.tolerateRefusedPosts = tolerateRefusedPosts;
  }

  logRefused(message) {
    process.stderr.write(`lambdad nodejs runtime: ${message} (the runtime goes on)\n`);
  }

  /** Logs, exits 1, and returns a promise that never settles so that callers stop here. */
  fatal(message) {
    process.stderr.write(`lambdad nodejs runtime: ${message}\n`);
    exitAfterFlush(1);
    return new Promise(() => {});
  }

  // One request; resolves {status, headers, body}.
  request(method, path, headers, body) {
    return this.connection
      .request(method, path, headers, body)
      .catch((err) => this.fatal(`${method} ${path} failed: ${err.message}`));
  }

  async expect(method, path, wanted, headers, body, alsoAccepted = []) {
    if (method === 'POST') await outputFlushed();
    const res = await this.request(method, path, headers, body);
    if (res.status !== wanted && !alsoAccepted.includes(res.status)) {
      const message = `${method} ${path} returned ${res.status}: ${res.body.toString('utf8')}`;
      if (method !== 'POST' || !this.tolerateRefusedPosts) return this.fatal(message);
      this.logRefused(message);
    }
    return res;
  }

  /** SnapStart (lambda-spec §14): answered (200) once this environment is restored. */
  async restoreNext() {
    await this.expect('GET', `${PREFIX}/restore/next`, 200, {});
  }

  /** Long-polls the next invocation: {bodyJson, headers}. */
  async nextInvocation() {
    const res = await this.expect('GET', `${PREFIX}/invocation/next`, 200, {});
    return { bodyJson: res.body.toString('utf8'), headers: res.headers };
  }

  /** Posts a result; throws synchronously if it cannot be serialized. */
  postInvocationResponse(result, id, callback) {
    const body = serializeResult(result);
    const path = `${PREFIX}/invocation/${encodeURIComponent(id)}/response`;
    this.expect('POST', path, 202, { 'Content-Type': 'application/json' }, body, [413]).then(() => callback?.());
  }

  postInvocationError(error, id, callback) {
    this.postError(`${PREFIX}/invocation/${encodeURIComponent(id)}/error`, error, true, callback);
  }

  postInitError(error, callback) {
    this.postError(`${PREFIX}/init/error`, error, false, callback);
  }

  postError(path, error, withXray, callback) {
    const response = toRapidResponse(error);
    const body = serializeResult(response);
    const headers = { 'Content-Type': 'application/json' };
    if (headerSafe(response.errorType)) headers[ERROR_TYPE_HEADER] = response.errorType;
    if (withXray) {
      const cause = xrayCause(error);
      if (cause !== undefined && cause.length < MAX_XRAY_CAUSE) headers[XRAY_CAUSE_HEADER] = asciiJson(cause);
    }
    this.expect('POST', path, 202, headers, body).then(() => callback?.());
  }

  /**
   * The request that carries a streamed response (Lambda-Runtime-Function-Response-Mode:
   * streaming): a writable stream with setHeader/addTrailers, and `response`, the answer.
   */
  streamingRequest(id, headers) {
    return this.connection.streamingRequest('POST', `${PREFIX}/invocation/${encodeURIComponent(id)}/response`, headers);
  }

  /** Closes the connection (tests). */
  close() {
    this.connection.close();
  }
}
