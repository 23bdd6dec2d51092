// A WebSocket API of the template on --api-port, driven with the `ws` client against the real
// daemon and a Node function that answers through the real @aws-sdk/client-apigatewaymanagementapi:
// $connect before the handshake (and its refusals), messages routed by action, a route response,
// PostToConnection back to the client, GetConnection, DeleteConnection, $disconnect, and the
// "Forbidden" frame of a message no route takes, the frame and message size limits, and a $connect
// Lambda authorizer (refusals, and its context and the stage variables in a later route's event).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { FUNCTIONS, REPO, startDaemon } from './daemon.mjs';

const require = createRequire(path.join(REPO, 'package.json'));
const WebSocket = require('ws');
const {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  GetConnectionCommand,
  GoneException,
  PostToConnectionCommand,
} = require('@aws-sdk/client-apigatewaymanagementapi');

const SOURCE = path.join(FUNCTIONS, 'websocket');
const NODE_MODULES = path.join(REPO, 'node_modules');
const SDK = '@aws-sdk/client-apigatewaymanagementapi';

/** The top-level packages of REPO/node_modules that `name` needs, itself included (nested
 * node_modules travel with their package). */
function packagesNeeded(name) {
  const needed = new Set();
  const queue = [[name, path.join(NODE_MODULES, name)]];
  while (queue.length) {
    const [top, dir] = queue.pop();
    needed.add(top);
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
    for (const dep of Object.keys(manifest.dependencies ?? {})) {
      let here = dir;
      let found;
      for (;;) {
        const candidate = path.join(here, 'node_modules', dep);
        if (fs.existsSync(path.join(candidate, 'package.json'))) { found = candidate; break; }
        if (here === REPO) throw new Error(`${dep} (needed by ${dir}) is not installed; run \`npm ci\` in ${REPO}`);
        here = path.dirname(here);
      }
      if (found === path.join(NODE_MODULES, dep)) {
        if (!needed.has(dep)) queue.push([dep, found]);
      }
    }
  }
  return [...needed].sort();
}

/** The function's code directory (index.js and copies of the SDK's packages) and its template. */
function prepareTemplate() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lambdad-ws-'));
  const code = path.join(dir, 'code');
  fs.mkdirSync(path.join(code, 'node_modules'), { recursive: true });
  fs.copyFileSync(path.join(SOURCE, 'index.js'), path.join(code, 'index.js'));
  for (const name of packagesNeeded(SDK)) {
    fs.cpSync(path.join(NODE_MODULES, name), path.join(code, 'node_modules', name), { recursive: true, dereference: true });
  }
  const template = path.join(dir, 'template.yaml');
  fs.writeFileSync(template, fs.readFileSync(path.join(SOURCE, 'template.yaml'), 'utf8').replaceAll('CODE_DIR', code));
  return { dir, template };
}

async function until(what, check, timeoutMs = 20000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Opens a client; resolves with it and a queue of the messages it receives. */
function open(url, options = {}) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options);
    const inbox = [];
    ws.on('message', (data, isBinary) => inbox.push({ text: data.toString('utf8'), isBinary }));
    ws.once('open', () => resolve({ ws, inbox }));
    ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`refused ${res.statusCode}`), { status: res.statusCode })));
    ws.once('error', reject);
  });
}

/** Resolves with the close's code and reason; rejects when the connection stays open 20 s. */
const closed = (ws) => new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error('the connection was not closed')), 20000);
  ws.once('close', (code, reason) => {
    clearTimeout(timer);
    resolve({ code, reason: reason.toString() });
  });
});

describe('WebSocket APIs on --api-port', () => {
  let daemon;
  let wsUrl;
  let management;
  let prepared;

  before(async () => {
    prepared = prepareTemplate();
    daemon = await startDaemon(prepared.template, '--api-port', '0');
    await until('the API port', () => daemon.apiEndpoint);
    wsUrl = `${daemon.apiEndpoint.replace('http://', 'ws://')}/prod`;
    management = new ApiGatewayManagementApiClient({
      endpoint: `${daemon.apiEndpoint}/prod`,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    });
  });

  after(async () => {
    management?.destroy();
    const exit = await daemon?.stop();
    assert.doesNotMatch(daemon?.logs() ?? '', /ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:/);
    if (prepared) fs.rmSync(prepared.dir, { recursive: true, force: true });
    assert.equal(exit?.code, 0, `lambdad exited with ${JSON.stringify(exit)}`);
  });

  test('the ready line lists the API with its ws:// URL', async () => {
    const line = await until('the WebSocket line', () => daemon.ready.find((l) => l.includes('WebSocket ws://')));
    assert.match(line, new RegExp(`WebSocket ${wsUrl} -> ChatApi`));
    assert.match(line, /\$connect -> Chat/);
  });

  test('connect, route by action, answer through @connections, get, delete, disconnect', async () => {
    const { ws, inbox } = await open(`${wsUrl}?user=ann`, { headers: { 'User-Agent': 'ws-e2e' } });
    const connect = await until('the $connect event', () => daemon.logs().match(/EVENT \$connect CONNECT (\S+) (.*)/));
    const connectionId = connect[1];
    const context = JSON.parse(connect[2]);
    assert.equal(context.stage, 'prod');
    assert.equal(context.apiId, 'ChatApi');
    assert.equal(context.domainName, new URL(daemon.apiEndpoint).host);
    assert.match(connectionId, /^[A-Za-z0-9_-]{15}=$/);

    ws.send(JSON.stringify({ action: 'send', text: 'hello' }));
    await until('the pushed message', () => inbox.length === 1);
    const pushed = JSON.parse(inbox[0].text);
    assert.equal(pushed.echo, 'hello');
    assert.equal(pushed.route, 'send');
    assert.equal(inbox[0].isBinary, false);

    ws.send(JSON.stringify({ action: 'ping', n: 7 }));
    await until('the route response', () => inbox.length === 2);
    assert.deepEqual(JSON.parse(inbox[1].text), { pong: 7 });

    ws.send(JSON.stringify({ action: 'nowhere' }));
    await until('the Forbidden frame', () => inbox.length === 3);
    const forbidden = JSON.parse(inbox[2].text);
    assert.equal(forbidden.message, 'Forbidden');
    assert.equal(forbidden.connectionId, connectionId);

    const info = await management.send(new GetConnectionCommand({ ConnectionId: connectionId }));
    assert.equal(info.Identity.SourceIp, '127.0.0.1');
    assert.equal(info.Identity.UserAgent, 'ws-e2e');
    assert.ok(info.ConnectedAt instanceof Date && info.LastActiveAt >= info.ConnectedAt);

    await management.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: 'from the test' }));
    await until('the test\'s post', () => inbox.length === 4);
    assert.equal(inbox[3].text, 'from the test');

    const gone = closed(ws);
    await management.send(new DeleteConnectionCommand({ ConnectionId: connectionId }));
    const how = await gone;
    assert.equal(how.code, 1000);
    const disconnect = await until('$disconnect', () => daemon.logs().match(new RegExp(`DISCONNECT ${connectionId} (\\d+)`)));
    assert.equal(disconnect[1], '1000');
    await assert.rejects(management.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: 'late' })),
      (err) => err instanceof GoneException && err.$metadata.httpStatusCode === 410);
  });

  test('a client close runs $disconnect with its status and reason', async () => {
    // The new connection's $connect line: the function's output reaches the log after the
    // upgrade has completed, so wait for one line more than there was before.
    const connects = () => [...daemon.logs().matchAll(/EVENT \$connect CONNECT (\S+)/g)];
    const before = connects().length;
    const { ws } = await open(wsUrl);
    const id = (await until('$connect', () => connects().length > before && connects().at(-1)))[1];
    ws.close(4001, 'bye now');
    const line = await until('$disconnect', () => daemon.logs().match(new RegExp(`DISCONNECT ${id} (\\d+) (.*)`)));
    assert.equal(line[1], '4001');
    assert.equal(line[2], 'bye now');
    await assert.rejects(management.send(new GetConnectionCommand({ ConnectionId: id })), GoneException);
  });

  test('$connect refuses the upgrade with its status, or 502 when it fails', async () => {
    await assert.rejects(open(`${wsUrl}?deny=1`), (err) => err.status === 403);
    await assert.rejects(open(`${wsUrl}?crash=1`), (err) => err.status === 502);
  });

  test('a 90 KB message in frames of 30 KB is taken; one frame over 32 KB closes with 1009', async () => {
    const { ws, inbox } = await open(wsUrl);
    const message = JSON.stringify({ action: 'ping', n: 90, pad: 'p'.repeat(90 * 1024) });
    const third = Math.ceil(message.length / 3);
    ws.send(message.slice(0, third), { fin: false });
    ws.send(message.slice(third, 2 * third), { fin: false });
    ws.send(message.slice(2 * third), { fin: true });
    await until('the route response', () => inbox.length === 1);
    assert.deepEqual(JSON.parse(inbox[0].text), { pong: 90 });

    const gone = closed(ws);
    ws.send(JSON.stringify({ action: 'ping', n: 40, pad: 'p'.repeat(40 * 1024) }));
    assert.equal((await gone).code, 1009);
    assert.equal(inbox.length, 1, 'the oversized frame reached no route');
  });

  test('a message over 128 KB closes the connection with 1009', async () => {
    const { ws } = await open(wsUrl);
    const gone = closed(ws);
    ws.send(JSON.stringify({ action: 'send', text: 'x'.repeat(129 * 1024) }));
    assert.equal((await gone).code, 1009);
  });

  test('a $connect authorizer: 401 without its header, 403 on a Deny, its context in later events', async () => {
    const line = daemon.ready.find((l) => l.includes('-> GuardedApi'));
    assert.match(line, /\$connect -> Chat with authorizer GuardedAuthorizer/);
    const guarded = wsUrl.replace(/\/prod$/, '/guarded');
    await assert.rejects(open(guarded), (err) => err.status === 401);
    await assert.rejects(open(guarded, { headers: { Auth: 'deny' } }), (err) => err.status === 403);
    const { ws, inbox } = await open(guarded, { headers: { Auth: 'allow' } });
    ws.send(JSON.stringify({ action: 'whoami' }));
    await until('the whoami answer', () => inbox.length === 1);
    const me = JSON.parse(inbox[0].text);
    assert.equal(me.authorizer.principalId, 'ann');
    assert.equal(me.authorizer.via, 'allow');
    assert.equal(me.authorizer.eventType, 'CONNECT');
    assert.deepEqual(me.stageVariables, { mode: 'guarded' });
    const gone = closed(ws);
    ws.close(1000);
    await gone;
  });
});
