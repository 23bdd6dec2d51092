// A minimal HTTP/1.1 client for the Runtime API: one kept-alive TCP connection, requests one at
// a time, responses framed by Content-Length, chunked encoding or the end of the connection.
// It is built on net.Socket functions taken when this module loads, before the function's code
// is imported, so a library that patches http, https, globalThis.fetch or net (X-Ray, nock,
// interceptors) neither sees nor disturbs the runtime's own traffic.
import net from 'node:net';
import { Writable } from 'node:stream';

const apply = Reflect.apply;
const { Socket } = net;
const socketConnect = Socket.prototype.connect;
const socketWrite = Socket.prototype.write;
const socketDestroy = Socket.prototype.destroy;
const socketSetNoDelay = Socket.prototype.setNoDelay;
const socketOn = Socket.prototype.on;
const socketOnce = Socket.prototype.once;
const socketRemoveListener = Socket.prototype.removeListener;
const socketRef = Socket.prototype.ref;
const socketUnref = Socket.prototype.unref;
const CRLF = Buffer.from('\r\n');
const HEAD_END = Buffer.from('\r\n\r\n');

/** Parses one response from the bytes of a connection. */
class ResponseParser {
  constructor() {
    this.buf = Buffer.alloc(0);
    this.status = 0;
    this.headers = null;
    this.mode = 'head';
    this.remaining = 0;
    this.chunks = [];
    this.keepAlive = true;
  }

  /** Takes more bytes; returns true once the response is complete. */
  push(data) {
    this.buf = this.buf.length ? Buffer.concat([this.buf, data]) : data;
    for (;;) {
      if (this.mode === 'head') {
        const end = this.buf.indexOf(HEAD_END);
        if (end < 0) return false;
        this.parseHead(this.buf.subarray(0, end).toString('latin1'));
        this.buf = this.buf.subarray(end + 4);
        if (this.status >= 100 && this.status < 200) {
          this.mode = 'head'; // an interim response: the real one follows
          continue;
        }
      } else if (this.mode === 'length') {
        if (this.buf.length < this.remaining) return false;
        this.chunks.push(this.buf.subarray(0, this.remaining));
        this.buf = this.buf.subarray(this.remaining);
        return true;
      } else if (this.mode === 'chunk-size') {
        const eol = this.buf.indexOf(CRLF);
        if (eol < 0) return false;
        const size = parseInt(this.buf.subarray(0, eol).toString('latin1').split(';')[0], 16);
        if (Number.isNaN(size)) throw new Error('malformed chunked response');
        this.buf = this.buf.subarray(eol + 2);
        this.remaining = size;
        this.mode = size === 0 ? 'trailers' : 'chunk-data';
      } else if (this.mode === 'chunk-data') {
        if (this.buf.length < this.remaining + 2) return false;
        this.chunks.push(this.buf.subarray(0, this.remaining));
        this.buf = this.buf.subarray(this.remaining + 2);
        this.mode = 'chunk-size';
      } else if (this.mode === 'trailers') {
        if (this.buf.subarray(0, 2).equals(CRLF)) {
          this.buf = this.buf.subarray(2);
          return true;
        }
        const end = this.buf.indexOf(HEAD_END);
        if (end < 0) return false;
        this.buf = this.buf.subarray(end + 4);
        return true;
      } else {
        // 'close': the body is everything until the server closes the connection.
        if (this.buf.length) this.chunks.push(this.buf);
        this.buf = Buffer.alloc(0);
        return false;
      }
    }
  }

  parseHead(text) {
    const lines = text.split('\r\n');
    const match = /^HTTP\/1\.([01]) (\d{3})/.exec(lines[0]);
    if (!match) throw new Error(`malformed response status line: ${lines[0]}`);
    this.status = Number(match[2]);
    const headers = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = Buffer.from(line.slice(colon + 1).trim(), 'latin1').toString('utf8');
      headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
    }
    this.headers = headers;
    const connection = (headers.connection ?? '').toLowerCase();
    this.keepAlive = match[1] === '1' ? !connection.includes('close') : connection.includes('keep-alive');
    if ((headers['transfer-encoding'] ?? '').toLowerCase().includes('chunked')) {
      this.mode = 'chunk-size';
    } else if (headers['content-length'] !== undefined) {
      this.mode = 'length';
      this.remaining = Number(headers['content-length']);
    } else if (this.status === 204 || this.status === 304) {
      this.mode = 'length';
      this.remaining = 0;
    } else {
      this.mode = 'close';
      this.keepAlive = false;
    }
  }

  /** The connection ended: complete only if the body was delimited by that end. */
  finish() {
    return this.mode === 'close';
  }

  result() {
    return { status: this.status, headers: this.headers, body: Buffer.concat(this.chunks) };
  }
}

function headText(method, path, host, headers) {
  let text = `${method} ${path} HTTP/1.1\r\nHost: ${host}\r\n`;
  for (const [name, value] of Object.entries(headers)) text += `${name}: ${value}\r\n`;
  return text + '\r\n';
}

/** One kept-alive connection to host:port; exchanges run one after the other. */
export class HttpConnection {
  constructor(hostname, port) {
    this.hostname = hostname;
    this.port = port;
    this.socket = null;
    this.used = false; // the current socket already carried a complete exchange
    this.queue = Promise.resolve();
  }

  /**
   * Sends a request with a complete body; resolves {status, headers, body}. When a kept-alive
   * connection turns out to have been closed by the server before any answer, retries once.
   */
  request(method, path, headers, body) {
    const payload = body === undefined ? Buffer.alloc(0) : Buffer.from(body);
    const all = { ...headers, 'Content-Length': payload.length };
    const head = Buffer.from(headText(method, path, `${this.hostname}:${this.port}`, all), 'latin1');
    return this.enqueue((send) => send(payload.length ? Buffer.concat([head, payload]) : head), true);
  }

  /** A request whose body is written as it comes (chunked); see StreamingRequest. */
  streamingRequest(method, path, headers) {
    return new StreamingRequest(this, method, path, headers);
  }

  /** Closes the connection; the next request opens a new one. */
  close() {
    if (this.socket) apply(socketDestroy, this.socket, []);
    this.socket = null;
  }

  enqueue(start, replayable) {
    const run = () => this.exchange(start, replayable, false);
    const result = this.queue.then(run, run);
    this.queue = result.then(() => {}, () => {});
    return result;
  }

  connectSocket() {
    const socket = new Socket();
    apply(socketSetNoDelay, socket, [true]);
    apply(socketConnect, socket, [{ host: this.hostname, port: this.port }]);
    apply(socketOn, socket, ['error', () => {}]); // reported through the exchange in progress
    apply(socketOn, socket, ['close', () => {
      if (this.socket === socket) this.socket = null;
    }]);
    this.socket = socket;
    this.used = false;
    return socket;
  }

  // Runs `start(send)` on the connection and resolves the parsed response.
  exchange(start, replayable, retried) {
    const reused = this.socket !== null && this.used;
    const socket = this.socket ?? this.connectSocket();
    // An idle kept-alive connection must not keep the event loop alive (callback handlers wait
    // for it to empty), as an http.Agent's free sockets do not.
    apply(socketRef, socket, []);
    return new Promise((resolve, reject) => {
      const parser = new ResponseParser();
      let received = false;
      let settled = false;
      const done = (err, res) => {
        if (settled) return;
        settled = true;
        apply(socketRemoveListener, socket, ['data', onData]);
        apply(socketRemoveListener, socket, ['close', onClose]);
        apply(socketRemoveListener, socket, ['error', onError]);
        if (err) {
          if (this.socket === socket) this.close();
          if (reused && !received && replayable && !retried) {
            resolve(this.exchange(start, replayable, true));
          } else {
            reject(err);
          }
          return;
        }
        if (parser.keepAlive && this.socket === socket) {
          this.used = true;
          apply(socketUnref, socket, []);
        } else if (this.socket === socket) {
          this.close();
        }
        resolve(res);
      };
      const onData = (data) => {
        received = true;
        try {
          if (parser.push(data)) done(null, parser.result());
        } catch (err) {
          done(err);
        }
      };
      const onClose = () => {
        if (received && parser.finish()) done(null, parser.result());
        else done(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
      };
      const onError = (err) => done(err);
      apply(socketOn, socket, ['data', onData]);
      apply(socketOn, socket, ['close', onClose]);
      apply(socketOn, socket, ['error', onError]);
      // Writes request bytes; `callback` runs once the socket can take more. After the
      // exchange ended (answered or failed) further bytes are dropped.
      const send = (data, callback) => {
        if (settled || socket.destroyed) {
          callback?.();
          return;
        }
        if (apply(socketWrite, socket, [data]) || !callback) callback?.();
        else apply(socketOnce, socket, ['drain', () => callback()]);
      };
      try {
        start(send, (err) => done(err));
      } catch (err) {
        done(err);
      }
    });
  }
}

/**
 * A POST whose body is a chunked stream, as http.ClientRequest would send it: the head goes out
 * with the first write (so headers can change until then), each write is one chunk, end() sends
 * the last chunk and the trailers added with addTrailers(). `response` resolves the answer.
 */
export class StreamingRequest extends Writable {
  constructor(connection, method, path, headers) {
    super({ autoDestroy: false }); // finishing the body is not the end of the exchange
    this.connection = connection;
    this.method = method;
    this.path = path;
    this.headers = { ...headers };
    this.trailers = {};
    this.headSent = false;
    let open;
    this.opened = new Promise((resolve) => {
      open = resolve;
    });
    this.response = connection.enqueue((send, abort) => {
      this.abort = abort;
      if (this.destroyed) abort(new Error('request aborted'));
      else open(send);
    }, false);
    // A failed exchange fails the stream, as a socket error fails an http.ClientRequest.
    this.response.catch((err) => {
      if (!this.destroyed) this.destroy(err);
    });
  }

  setHeader(name, value) {
    if (this.headSent) throw new Error('Cannot set headers after they are sent to the client');
    for (const key of Object.keys(this.headers)) {
      if (key.toLowerCase() === name.toLowerCase()) delete this.headers[key];
    }
    this.headers[name] = value;
  }

  addTrailers(trailers) {
    Object.assign(this.trailers, trailers);
  }

  // The head, once, in front of the first bytes sent.
  withHead(data) {
    if (this.headSent) return data;
    this.headSent = true;
    const host = `${this.connection.hostname}:${this.connection.port}`;
    return Buffer.concat([Buffer.from(headText(this.method, this.path, host, this.headers), 'latin1'), data]);
  }

  _write(chunk, encoding, callback) {
    if (chunk.length === 0) {
      callback();
      return;
    }
    this.opened.then((send) => {
      const framed = Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, CRLF]);
      send(this.withHead(framed), () => callback());
    });
  }

  _final(callback) {
    this.opened.then((send) => {
      let last = '0\r\n';
      for (const [name, value] of Object.entries(this.trailers)) last += `${name}: ${value}\r\n`;
      send(this.withHead(Buffer.from(last + '\r\n', 'latin1')), () => callback());
    });
  }

  _destroy(err, callback) {
    if (err || !this.writableFinished) this.abort?.(err ?? new Error('request aborted'));
    callback(err);
  }
}
