// Unit tests of the Node.js runtime client's HTTP to the Runtime API (runtime_api_client.mjs over
// http_connection.mjs) against a raw TCP server: response framings, reconnects, the 413 a too
// large response gets, and that patches of http/https/fetch/net made after the client module
// loaded (as a function's libraries would make them) never see the runtime's requests.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { after, before, test } from 'node:test';

import { RuntimeApiClient } from '../../../runtimes/nodejs/lib/runtime_api_client.mjs';

// Answers each request (Content-Length bodies) with what `reply(request)` returns: raw bytes,
// and whether to close the connection after them.
class ScriptedServer {
  constructor() {
    this.requests = [];
    this.connections = 0;
    this.reply = () => ({ raw: ok(202, '{"status":"OK"}\n') });
    this.server = net.createServer((socket) => {
      this.connections += 1;
      let buf = Buffer.alloc(0);
      socket.on('data', (data) => {
        buf = Buffer.concat([buf, data]);
        for (;;) {
          const end = buf.indexOf('\r\n\r\n');
          if (end < 0) return;
          const head = buf.subarray(0, end).toString('latin1');
          const length = Number(/\r\ncontent-length: (\d+)/i.exec(head)?.[1] ?? 0);
          if (buf.length < end + 4 + length) return;
          const request = { head, body: buf.subarray(end + 4, end + 4 + length).toString() };
          buf = buf.subarray(end + 4 + length);
          this.requests.push(request);
          const { raw, close } = this.reply(request);
          socket.write(raw);
          if (close) socket.end();
        }
      });
      socket.on('error', () => {});
    });
  }
  listen() {
    return new Promise((resolve) => this.server.listen(0, '127.0.0.1', () => resolve(this.server.address().port)));
  }
}

function ok(status, body, extra = '') {
  return `HTTP/1.1 ${status} X\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;
}

let server;
let client;

before(async () => {
  server = new ScriptedServer();
  client = new RuntimeApiClient(`127.0.0.1:${await server.listen()}`);
});

after(() => {
  client.close();
  server.server.close();
});

const NEXT_HEADERS = 'Lambda-Runtime-Aws-Request-Id: id-1\r\nLambda-Runtime-Deadline-Ms: 123\r\n';

test('/next: Content-Length and chunked bodies, headers by lower-case name', async () => {
  server.reply = () => ({ raw: ok(200, '{"a":1}', NEXT_HEADERS) });
  let next = await client.nextInvocation();
  assert.equal(next.bodyJson, '{"a":1}');
  assert.equal(next.headers['lambda-runtime-aws-request-id'], 'id-1');
  assert.equal(next.headers['lambda-runtime-deadline-ms'], '123');

  server.reply = () => ({
    raw: `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n${NEXT_HEADERS}\r\n3\r\n{"b\r\n4;x=y\r\n":2}\r\n0\r\nX-T: 1\r\n\r\n`,
  });
  next = await client.nextInvocation();
  assert.equal(next.bodyJson, '{"b":2}');
  assert.equal(server.connections, 1, 'one kept-alive connection');
  assert.match(server.requests.at(-1).head, /^GET \/2018-06-01\/runtime\/invocation\/next HTTP\/1.1\r\n/);
});

test('a response the server ends with the connection, then a new connection', async () => {
  const before = server.connections;
  server.reply = () => ({ raw: `HTTP/1.1 200 OK\r\n${NEXT_HEADERS}Connection: close\r\n\r\n{"c":3}`, close: true });
  const next = await client.nextInvocation();
  assert.equal(next.bodyJson, '{"c":3}');
  server.reply = () => ({ raw: ok(202, '{"status":"OK"}\n') });
  await new Promise((resolve) => client.postInvocationResponse({ d: 4 }, 'id-1', resolve));
  assert.equal(server.connections, before + 1, "the closed connection is replaced");
  const { head, body } = server.requests.at(-1);
  assert.match(head, /^POST \/2018-06-01\/runtime\/invocation\/id-1\/response HTTP\/1.1\r\n/);
  assert.match(head, /\r\nContent-Type: application\/json(\r\n|$)/);
  assert.match(head, /\r\nContent-Length: 7(\r\n|$)/);
  assert.equal(body, '{"d":4}');
});

test('a response refused with 413 is not fatal: the runtime carries on', async () => {
  server.reply = () => ({
    raw: ok(413, '{"errorMessage":"Exceeded maximum allowed payload size (6291556 bytes).","errorType":"RequestEntityTooLarge"}', 'Connection: close\r\n'),
    close: true,
  });
  const exit = process.exit;
  process.exit = (code) => assert.fail(`process.exit(${code})`);
  try {
    await new Promise((resolve) => client.postInvocationResponse('x'.repeat(1000), 'id-2', resolve));
    server.reply = () => ({ raw: ok(200, '{}', NEXT_HEADERS) });
    assert.equal((await client.nextInvocation()).bodyJson, '{}');
  } finally {
    process.exit = exit;
  }
});

test('errors carry Lambda-Runtime-Function-Error-Type', async () => {
  server.reply = () => ({ raw: ok(202, '{"status":"OK"}\n') });
  await new Promise((resolve) => client.postInvocationError(new TypeError('bad'), 'id-3', resolve));
  const { head, body } = server.requests.at(-1);
  assert.match(head, /^POST \/2018-06-01\/runtime\/invocation\/id-3\/error HTTP\/1.1\r\n/);
  assert.match(head, /\r\nLambda-Runtime-Function-Error-Type: TypeError(\r\n|$)/);
  assert.equal(JSON.parse(body).errorMessage, 'bad');
});

test('patched http, https, fetch and net see none of the runtime traffic', async () => {
  const saved = {
    httpRequest: http.request, httpGet: http.get, httpsRequest: https.request, fetch: globalThis.fetch,
    connect: net.connect, createConnection: net.createConnection, socketConnect: net.Socket.prototype.connect,
  };
  const calls = [];
  const trap = (name) => (...args) => {
    calls.push(name);
    throw new Error(`${name} patched`);
  };
  http.request = trap('http.request');
  http.get = trap('http.get');
  https.request = trap('https.request');
  globalThis.fetch = trap('fetch');
  net.connect = trap('net.connect');
  net.createConnection = trap('net.createConnection');
  net.Socket.prototype.connect = trap('Socket.connect');
  try {
    client.close(); // a fresh connection is opened under the patches
    server.reply = () => ({ raw: ok(200, '{"e":5}', NEXT_HEADERS) });
    assert.equal((await client.nextInvocation()).bodyJson, '{"e":5}');
    server.reply = () => ({ raw: ok(202, '{"status":"OK"}\n') });
    await new Promise((resolve) => client.postInvocationResponse({ f: 6 }, 'id-1', resolve));
  } finally {
    Object.assign(http, { request: saved.httpRequest, get: saved.httpGet });
    https.request = saved.httpsRequest;
    globalThis.fetch = saved.fetch;
    Object.assign(net, { connect: saved.connect, createConnection: saved.createConnection });
    net.Socket.prototype.connect = saved.socketConnect;
  }
  assert.deepEqual(calls, []);
  assert.equal(server.requests.at(-1).body, '{"f":6}');
});

test('an idle kept-alive connection does not keep the process alive', async () => {
  // Callback handlers answer once the event loop is empty: the runtime's own idle connection must
  // not count. A child process makes one request and must then exit by itself.
  server.reply = () => ({ raw: ok(200, '{}', NEXT_HEADERS) });
  const port = server.server.address().port;
  const client = new URL('../../../runtimes/nodejs/lib/runtime_api_client.mjs', import.meta.url).href;
  const script = `const { RuntimeApiClient } = await import(${JSON.stringify(client)});
    const next = await new RuntimeApiClient('127.0.0.1:${port}').nextInvocation();
    process.on('exit', () => console.log('exited after', next.bodyJson));`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  const [code, signal] = await new Promise((resolve) => child.on('exit', (c, s) => resolve([c, s])));
  clearTimeout(timer);
  assert.equal(signal, null, 'the child was still running after 5 s');
  assert.equal(code, 0);
  assert.equal(out.trim(), 'exited after {}');
});
