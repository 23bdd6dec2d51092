// HTTP client of the Runtime API (2018-06-01): one keep-alive socket, no timeout on the
// /next long poll. A status other than the documented success (200 for /next, 202 for posts)
// is fatal: the runtime logs it to stderr and exits 1.
import http from 'node:http';
import { toRapidResponse, xrayCause } from './errors.mjs';

// Taken before the function's code loads: tracers that patch node:http (aws-xray-sdk's
// captureHTTPsGlobal, which Powertools' Tracer calls) must not record the runtime's own calls,
// which Lambda's runtime client does not make through node:http.
const httpRequest = http.request;

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
  constructor(address) {
    const i = address.lastIndexOf(':');
    this.hostname = address.slice(0, i);
    this.port = Number(address.slice(i + 1));
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  }

  /** Logs, exits 1, and returns a promise that never settles so that callers stop here. */
  fatal(message) {
    process.stderr.write(`lambdad nodejs runtime: ${message}\n`);
    exitAfterFlush(1);
    return new Promise(() => {});
  }

  // One request; resolves {status, headers, body}. Retries once when a kept-alive socket
  // turned out to be closed by the server before it answered.
  request(method, path, headers, body, retried = false) {
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        { hostname: this.hostname, port: this.port, method, path, headers, agent: this.agent },
        (res) => {
          const chunks = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }),
          );
          res.on('error', reject);
        },
      );
      req.on('error', (err) => {
        if (!retried && req.reusedSocket && err.code === 'ECONNRESET') {
          resolve(this.request(method, path, headers, body, true));
        } else {
          reject(err);
        }
      });
      req.end(body);
    }).catch((err) => this.fatal(`${method} ${path} failed: ${err.message}`));
  }

  async expect(method, path, wanted, headers, body) {
    if (method === 'POST') await outputFlushed();
    const res = await this.request(method, path, headers, body);
    if (res.status !== wanted) {
      return this.fatal(`${method} ${path} returned ${res.status}: ${res.body.toString('utf8')}`);
    }
    return res;
  }

  /** Long-polls the next invocation: {bodyJson, headers}. */
  async nextInvocation() {
    const res = await this.expect('GET', `${PREFIX}/invocation/next`, 200, {});
    return { bodyJson: res.body.toString('utf8'), headers: res.headers };
  }

  /** Posts a result; throws synchronously if it cannot be serialized. */
  postInvocationResponse(result, id, callback) {
    const body = serializeResult(result);
    this.expect('POST', `${PREFIX}/invocation/${encodeURIComponent(id)}/response`, 202, {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(body),
    }, body).then(() => callback?.());
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
    const headers = { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) };
    if (headerSafe(response.errorType)) headers[ERROR_TYPE_HEADER] = response.errorType;
    if (withXray) {
      const cause = xrayCause(error);
      if (cause !== undefined && cause.length < MAX_XRAY_CAUSE) headers[XRAY_CAUSE_HEADER] = asciiJson(cause);
    }
    this.expect('POST', path, 202, headers, body).then(() => callback?.());
  }

  /** The request that carries a streamed response (Lambda-Runtime-Function-Response-Mode: streaming). */
  streamingRequest(id, headers, onResponse) {
    return httpRequest({
      hostname: this.hostname,
      port: this.port,
      method: 'POST',
      path: `${PREFIX}/invocation/${encodeURIComponent(id)}/response`,
      headers,
      agent: this.agent,
    }, onResponse);
  }
}
