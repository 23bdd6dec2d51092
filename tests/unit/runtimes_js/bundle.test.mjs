// The Node.js runtime client lambdad runs, runtimes/nodejs/bootstrap.mjs, is generated from
// runtimes/nodejs/lib by scripts/bundle-node-runtime.mjs: it must be what the script writes now.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

import { OUTPUT, bundle } from '../../../scripts/bundle-node-runtime.mjs';

test('bootstrap.mjs is the bundle of lib/ as it is now', () => {
  assert.equal(
    fs.readFileSync(OUTPUT, 'utf8'),
    bundle(),
    'runtimes/nodejs/bootstrap.mjs is out of date: run `node scripts/bundle-node-runtime.mjs`',
  );
});

test('the bundle takes every module main.mjs reaches, built-ins by require()', () => {
  const text = bundle();
  const libs = fs.readdirSync(path.join(path.dirname(OUTPUT), 'lib')).filter((f) => f.endsWith('.mjs'));
  for (const lib of libs) assert.ok(text.includes(`// ---- lib/${lib} ----`), lib);
  assert.deepEqual(text.match(/^import .*$/gm), ["import { createRequire } from 'node:module';"]);
  assert.doesNotMatch(text, /^export /m);
});

test('modules whose top-level names clash are refused, not bundled', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bundle-'));
  try {
    fs.writeFileSync(path.join(dir, 'a.mjs'), "export const shared = 1;\n");
    fs.writeFileSync(path.join(dir, 'main.mjs'), "import { shared } from './a.mjs';\nfunction shared2() {}\nconst shared = 2;\n");
    assert.throws(() => bundle(path.join(dir, 'main.mjs')), /'shared' is both declared in/);
    fs.writeFileSync(path.join(dir, 'main.mjs'), "import { other as x } from './a.mjs';\n");
    assert.throws(() => bundle(path.join(dir, 'main.mjs')), /renaming/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
