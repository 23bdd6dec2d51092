// Response streaming (awslambda.streamifyResponse): the handler writes to a stream that is the
// body of a chunked POST .../response with Lambda-Runtime-Function-Response-Mode: streaming
// (http_connection.mjs StreamingRequest).
// A failure after the first byte is reported in the trailers Lambda-Runtime-Function-Error-Type
// and Lambda-Runtime-Function-Error-Body (base64 of the error JSON).
import { InvalidStreamingOperation, toRapidResponse } from './errors.mjs';

const ERROR_TYPE_TRAILER = 'Lambda-Runtime-Function-Error-Type';
const ERROR_BODY_TRAILER = 'Lambda-Runtime-Function-Error-Body';
const DEFAULT_CONTENT_TYPE = 'application/octet-stream';
const HTTP_INTEGRATION_CONTENT_TYPE = 'application/vnd.awslambda.http-integration-response';

const failures = new WeakMap();

// The handler sees a writable-stream facade, not the HTTP request itself.
function writableFacade(inner) {
  const methods = [
    'cork', 'destroy', 'end', 'uncork', 'write', 'addListener', 'emit', 'eventNames',
    'getMaxListeners', 'listenerCount', 'listeners', 'off', 'on', 'once', 'prependListener',
    'prependOnceListener', 'rawListeners', 'removeAllListeners', 'removeListener',
    'setMaxListeners', 'setContentType',
  ];
  const readWrite = ['destroyed', 'writable', '_onBeforeFirstWrite'];
  const readOnly = [
    'writableFinished', 'writableObjectMode', 'writableBuffer', 'writableEnded',
    'writableNeedDrain', 'writableHighWaterMark', 'writableCorked', 'writableLength',
  ];
  const facade = Object.fromEntries(methods.map((m) => [m, inner[m].bind(inner)]));
  for (const p of readWrite) {
    Object.defineProperty(facade, p, { get: () => inner[p], set: (v) => { inner[p] = v; } });
  }
  for (const p of readOnly) Object.defineProperty(facade, p, { get: () => inner[p] });
  return facade;
}

/** {stream, responseDone}: responseDone settles when the Runtime API answers the POST. */
export function createResponseStream(client, id, options = {}) {
  let started = false;
  let resolveDone;
  let rejectDone;
  const responseDone = new Promise((resolve, reject) => {
    resolveDone = resolve;
    rejectDone = reject;
  });
  responseDone.catch(() => {}); // observed by the runtime; never an unhandled rejection

  const headers = {
    'Lambda-Runtime-Function-Response-Mode': 'streaming',
    Trailer: `${ERROR_TYPE_TRAILER}, ${ERROR_BODY_TRAILER}`,
    'Content-Type': options.contentType ?? DEFAULT_CONTENT_TYPE,
    'Transfer-Encoding': 'chunked',
  };
  const req = client.streamingRequest(id, headers);
  req.response.then((res) => {
    // 413: the stream outgrew Lambda's limit; the invoke has failed and the runtime goes on.
    if (res.status !== 202 && res.status !== 413) {
      const message = `streamed response returned ${res.status}: ${res.body}`;
      if (!client.tolerateRefusedPosts) return client.fatal(message);
      client.logRefused(message);
    }
    resolveDone(res.body);
  }, rejectDone);
  req.on('error', (err) => {
    rejectDone(err);
    req.destroy(err);
  });

  req.setContentType = (contentType) => {
    if (started) throw new InvalidStreamingOperation('Cannot set content-type, too late.');
    req.setHeader('Content-Type', contentType);
  };

  const write = req.write.bind(req);
  req.write = function (chunk, encoding, callback) {
    if (typeof chunk !== 'string' && !Buffer.isBuffer(chunk) && chunk?.constructor !== Uint8Array) {
      chunk = JSON.stringify(chunk);
    }
    if (!started && typeof this._onBeforeFirstWrite === 'function') {
      this._onBeforeFirstWrite((c) => write(c));
    }
    started = true;
    return write(chunk, encoding, callback);
  };

  const stream = writableFacade(req);
  failures.set(stream, (err, callback) => {
    const error = toRapidResponse(err);
    req.addTrailers({
      [ERROR_TYPE_TRAILER]: error.errorType,
      [ERROR_BODY_TRAILER]: Buffer.from(JSON.stringify(error)).toString('base64'),
    });
    req.end(callback);
  });
  return { stream, responseDone };
}

/** Ends the stream with the error in its trailers. */
export function failStream(stream, err, callback) {
  const fail = failures.get(stream);
  if (fail) fail(err, callback);
}

/** awslambda.HttpResponseStream: a JSON prelude (statusCode, headers, cookies), 8 NUL bytes, body. */
export class HttpResponseStream {
  static from(stream, prelude) {
    stream.setContentType(HTTP_INTEGRATION_CONTENT_TYPE);
    const metadata = JSON.stringify(prelude);
    stream._onBeforeFirstWrite = (write) => {
      write(metadata);
      write(new Uint8Array(8));
    };
    return stream;
  }
}
