// examples/browser-app in a real browser: the real daemon serves the page at its Function URL,
// headless Chromium (Debian's `chromium`) loads it and runs its script, which calls the HTTP API
// from another origin (a CORS preflight, then the POST) and the WebSocket API. The test drives
// Chromium over the DevTools protocol with the `ws` client, reads the page's results from the DOM,
// and saves a screenshot of the page (its path is printed).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { LAMBDAD, REPO, startDaemon } from './daemon.mjs';

const require = createRequire(path.join(REPO, 'package.json'));
const WebSocket = require('ws');

const CHROMIUM = '/usr/bin/chromium';
const TEMPLATE = path.join(REPO, 'examples', 'browser-app', 'template.yaml');
const SCREENSHOT = path.join(path.dirname(LAMBDAD), 'e2e-artifacts', 'browser-app.png');

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what, check, timeoutMs) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

/** Headless Chromium with a profile of its own; `stop()` kills it and removes the profile. */
async function launchChromium() {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: install Debian's chromium package (scripts/install-deps.sh apt)`);
  }
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'lambdad-chromium-'));
  const proc = spawn(CHROMIUM, [
    '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run',
    '--no-default-browser-check', '--window-size=900,800', '--remote-debugging-port=0',
    `--user-data-dir=${profile}`, 'about:blank',
  ], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  const stderr = [];
  proc.stderr.on('data', (chunk) => { if (stderr.length < 200) stderr.push(chunk.toString()); });
  let exit = null;
  let spawnError = null;
  const exited = new Promise((resolve) => proc.once('exit', (code, signal) => { exit = { code, signal }; resolve(); }));
  proc.once('error', (err) => { spawnError = err; });
  const chromium = {
    profile,
    stderr: () => stderr.join(''),
    async stop() {
      // Chromium's helpers (zygote, renderer, GPU) share its process group.
      if (exit === null && spawnError === null) {
        try { process.kill(-proc.pid, 'SIGKILL'); } catch { /* already gone */ }
        let timer;
        await Promise.race([exited, new Promise((resolve) => { timer = setTimeout(resolve, 5000); })]);
        clearTimeout(timer);
      }
      fs.rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    },
  };
  try {
    // Two lines: the port, then the browser target's path.
    const file = path.join(profile, 'DevToolsActivePort');
    const [port, target] = await until('DevToolsActivePort', () => {
      if (spawnError) throw spawnError;
      if (exit) throw new Error(`chromium exited (${JSON.stringify(exit)}) before it was ready:\n${chromium.stderr()}`);
      const lines = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n') : [];
      return lines.length >= 2 && lines[1].trim() ? lines : null;
    }, 20000);
    chromium.endpoint = `ws://127.0.0.1:${port.trim()}${target.trim()}`;
    return chromium;
  } catch (err) {
    await chromium.stop();
    throw err;
  }
}

/** A DevTools protocol connection: `send` resolves with a command's result; events are kept. */
async function connectCdp(endpoint) {
  const ws = new WebSocket(endpoint, { perMessageDeflate: false, maxPayload: 256 * 1024 * 1024 });
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  let nextId = 1;
  const pending = new Map();
  const events = [];
  ws.on('message', (data) => {
    const msg = JSON.parse(data.toString('utf8'));
    if (msg.id === undefined) return events.push(msg);
    const call = pending.get(msg.id);
    pending.delete(msg.id);
    clearTimeout(call?.timer);
    if (msg.error) call?.reject(new Error(`${call.method}: ${msg.error.message}`));
    else call?.resolve(msg.result);
  });
  ws.on('close', () => {
    for (const call of pending.values()) {
      clearTimeout(call.timer);
      call.reject(new Error(`${call.method}: the DevTools connection closed`));
    }
    pending.clear();
  });
  return {
    events,
    send(method, params = {}, sessionId = undefined) {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`${method}: no answer from Chromium in 10 s`));
        }, 10000);
        pending.set(id, { method, resolve, reject, timer });
        ws.send(JSON.stringify({ id, method, params, sessionId }));
      });
    },
    close() { ws.terminate(); },
  };
}

/** What the page said on the console and the browser logged (CORS refusals are logged there). */
function pageMessages(events) {
  const lines = [];
  for (const e of events) {
    if (e.method === 'Log.entryAdded') lines.push(`${e.params.entry.level}: ${e.params.entry.text}`);
    if (e.method === 'Runtime.consoleAPICalled') lines.push(`console.${e.params.type}: ${e.params.args.map((a) => a.value ?? a.description).join(' ')}`);
    if (e.method === 'Runtime.exceptionThrown') lines.push(`exception: ${e.params.exceptionDetails.exception?.description ?? e.params.exceptionDetails.text}`);
  }
  return lines.join('\n');
}

describe('examples/browser-app in headless Chromium', () => {
  let daemon;
  let chromium;
  let cdp;
  let session;
  let pageUrl;

  before(async () => {
    daemon = await startDaemon(TEMPLATE, '--api-port', '0');
    await until('the API port', () => daemon.apiEndpoint, 20000);
    pageUrl = `http://browser-page.lambda-url.localhost:${new URL(daemon.apiEndpoint).port}/`;
    chromium = await launchChromium();
    cdp = await connectCdp(chromium.endpoint);
    const { targetId } = await cdp.send('Target.createTarget', { url: 'about:blank' });
    ({ sessionId: session } = await cdp.send('Target.attachToTarget', { targetId, flatten: true }));
    await cdp.send('Runtime.enable', {}, session);
    await cdp.send('Log.enable', {}, session);
    await cdp.send('Page.enable', {}, session);
  });

  after(async () => {
    cdp?.close();
    await chromium?.stop();
    const exit = await daemon?.stop();
    assert.doesNotMatch(daemon?.logs() ?? '', /ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:/);
    assert.equal(exit?.code, 0, `lambdad exited with ${JSON.stringify(exit)}`);
  });

  test('the ready line lists the page URL, the HTTP route and the WebSocket API', () => {
    const ready = daemon.ready.join('\n');
    assert.match(ready, new RegExp(`URL ${pageUrl.replaceAll('.', '\\.')} -> browser-page`));
    assert.match(ready, /POST \/greet -> browser-greet \(HttpApi GreetApi, payload 2\.0\)/);
    assert.match(ready, /WebSocket ws:\/\/127\.0\.0\.1:\d+\/live -> SocketApi/);
  });

  test('the page calls the HTTP API across origins and the WebSocket API', async () => {
    const { errorText } = await cdp.send('Page.navigate', { url: pageUrl }, session);
    assert.equal(errorText, undefined, `navigating to ${pageUrl}: ${errorText}`);
    const read = async (selector) => {
      const { result } = await cdp.send('Runtime.evaluate', {
        expression: `document.querySelector(${JSON.stringify(selector)})?.textContent ?? null`,
        returnByValue: true,
      }, session);
      return result.value;
    };
    const status = await until('the page to finish (#status)', async () => {
      // While the page loads, its context may be gone between two polls.
      const s = await read('#status').catch(() => null);
      return s && s !== 'running' ? s : null;
    }, 15000).catch((err) => { throw new Error(`${err.message}\n${pageMessages(cdp.events)}\nlog:\n${daemon.logs()}`); });

    const { data } = await cdp.send('Page.captureScreenshot', { format: 'png' }, session);
    fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    fs.writeFileSync(SCREENSHOT, Buffer.from(data, 'base64'));
    console.log(`screenshot: ${SCREENSHOT}`);

    assert.equal(status, 'done', `the page ended with "${status}"\n${pageMessages(cdp.events)}\nlog:\n${daemon.logs()}`);

    // What the function returned: the body's name, the request's method and path, and the page's
    // origin, which only a request that passed CORS could have shown to the page.
    const greeting = JSON.parse(await read('#http'));
    const origin = new URL(pageUrl).origin;
    assert.equal(greeting.greeting, 'Hello, browser!');
    assert.equal(greeting.method, 'POST');
    assert.equal(greeting.path, '/greet');
    assert.equal(greeting.origin, origin);
    assert.equal(greeting.apiId, 'GreetApi');
    assert.equal(greeting.sourceIp, '127.0.0.1');

    // The WebSocket API's $default route response.
    const reply = JSON.parse(await read('#ws'));
    assert.equal(reply.echo, JSON.stringify({ text: 'hello from browser' }));
    assert.equal(reply.routeKey, '$default');
    assert.equal(reply.stage, 'live');
    assert.match(reply.connectionId, /^[A-Za-z0-9_-]{15}=$/);

    // The browser asked before it posted: the preflight, answered without an invoke, then the POST.
    const log = daemon.logs();
    const preflight = log.search(/API OPTIONS \/greet -> 204 \(CORS preflight \(GreetApi\)/);
    const post = log.search(/API POST \/greet -> 200 \(POST \/greet -> browser-greet/);
    assert.notEqual(preflight, -1, `no preflight in the log:\n${log}`);
    assert.ok(post > preflight, `the POST was not logged after the preflight:\n${log}`);
  });
});
