// Starts the real lambdad for a node:test file: `serve --port 0`, waits for the ready line on
// stdout, keeps stderr (the daemon's logs) for failure messages, stops it with SIGTERM.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const FUNCTIONS = path.join(REPO, 'tests', 'e2e', 'functions');
export const LAMBDAD = process.env.LAMBDAD_BIN || path.join(REPO, 'build', 'lambdad');
const READY = /Invoke API listening on (http:\/\/[0-9.]+:\d+)/;
const API_READY = /^API listening on (http:\/\/[0-9.]+:\d+)/;  // with --api-port

export class Daemon {
  constructor(proc) {
    this.proc = proc;
    this.endpoint = null;
    this.apiEndpoint = null;  // with --api-port, once its ready line is read
    this.ready = [];          // the lines of stdout (the ready line and what follows it)
    this.log = [];
    this.exited = new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
    createInterface({ input: proc.stderr }).on('line', (line) => this.log.push(line));
  }

  logs() {
    return this.log.join('\n');
  }

  async stop(timeoutMs = 10000) {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return this.exited;
    this.proc.kill('SIGTERM');
    let timer;
    const timedOut = new Promise((resolve) => { timer = setTimeout(() => resolve(null), timeoutMs); });
    const result = await Promise.race([this.exited, timedOut]);
    clearTimeout(timer);
    if (result === null) {
      // The daemon runs in its own process group; take the whole tree down.
      try { process.kill(-this.proc.pid, 'SIGKILL'); } catch { /* already gone */ }
      return this.exited;
    }
    return result;
  }
}

/** startDaemon(template, ...args) -> Promise<Daemon> with .endpoint once ready. */
export async function startDaemon(template, ...args) {
  const proc = spawn(LAMBDAD, ['serve', '--template', template, '--port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const daemon = new Daemon(proc);
  const spawnError = new Promise((_, reject) => proc.once('error', reject));
  const ready = new Promise((resolve, reject) => {
    const stdout = createInterface({ input: proc.stdout });
    stdout.on('line', (line) => {
      daemon.ready.push(line);
      const api = API_READY.exec(line);
      if (api) daemon.apiEndpoint = api[1];
      const m = READY.exec(line);
      if (m && daemon.endpoint === null) {
        daemon.endpoint = m[1];
        resolve(daemon);
      }
    });
    daemon.exited.then(({ code, signal }) =>
      reject(new Error(`lambdad exited (code ${code}, signal ${signal}) before it was ready; log:\n${daemon.logs()}`)));
  });
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`lambdad did not become ready in 30 s; log:\n${daemon.logs()}`)), 30000);
  });
  try {
    return await Promise.race([ready, spawnError, timeout]);
  } catch (err) {
    await daemon.stop();
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

// The SDK is a devDependency of the repository (package.json at the root, `npm ci`).
export async function loadLambdaSdk() {
  const require = createRequire(path.join(REPO, 'package.json'));
  let resolved;
  try {
    resolved = require.resolve('@aws-sdk/client-lambda');
  } catch {
    throw new Error(`@aws-sdk/client-lambda is not installed in ${path.join(REPO, 'node_modules')}; run \`npm ci\` in ${REPO}`);
  }
  return import(resolved);
}

// A client for the daemon: static test credentials, no retries (a retried 429 would hide a
// throttle, a retried error would double-count).
export function makeLambdaClient(LambdaClient, endpoint) {
  return new LambdaClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
}
