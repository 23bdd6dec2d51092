// Unit tests of lambdad's Node.js runtime client helpers: handler strings and module loading,
// error payloads, log records, callback semantics. No network, no daemon.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

import { buildCallbackContext } from '../../../runtimes/nodejs/lib/callback_context.mjs';
import {
  HandlerNotFound,
  ImportModuleError,
  toFormatted,
  toRapidResponse,
  UnhandledPromiseRejection,
} from '../../../runtimes/nodejs/lib/errors.mjs';
import { loadHandler, parseHandler } from '../../../runtimes/nodejs/lib/handler_loader.mjs';
import { formatJsonRecord, formatTextRecord } from '../../../runtimes/nodejs/lib/log_patch.mjs';
import { serializeResult } from '../../../runtimes/nodejs/lib/runtime_api_client.mjs';

test('handler strings split into module root, module and property path', () => {
  assert.deepEqual(parseHandler('index.handler'), { moduleRoot: '', moduleName: 'index', handlerPath: 'handler' });
  assert.deepEqual(parseHandler('src/handlers/app.handler'), {
    moduleRoot: 'src/handlers/',
    moduleName: 'app',
    handlerPath: 'handler',
  });
  assert.deepEqual(parseHandler('app.a.b'), { moduleRoot: '', moduleName: 'app', handlerPath: 'a.b' });
});

test('malformed handler strings', () => {
  assert.throws(() => parseHandler('nodot'), { name: 'Runtime.MalformedHandlerName', message: 'Bad handler' });
  assert.throws(() => parseHandler('../up.handler'), {
    name: 'Runtime.MalformedHandlerName',
    message: /is not a valid handler name/,
  });
});

test('error payloads', () => {
  const e = new TypeError('typed');
  assert.deepEqual(toRapidResponse(e), { errorType: 'TypeError', errorMessage: 'typed', trace: e.stack.split('\n') });
  assert.deepEqual(toRapidResponse('text'), { errorType: 'string', errorMessage: 'text', trace: [] });
  assert.deepEqual(toRapidResponse(42), { errorType: 'number', errorMessage: '42', trace: [] });
  assert.equal(new HandlerNotFound('x').name, 'Runtime.HandlerNotFound');
  assert.equal(new UnhandledPromiseRejection(new Error('r')).message, 'Error: r');
  const formatted = toFormatted(Object.assign(new Error('m'), { extra: 1 }));
  assert.ok(formatted.startsWith('\t{'));
  const parsed = JSON.parse(formatted.slice(1));
  assert.equal(parsed.errorType, 'Error');
  assert.equal(parsed.errorMessage, 'm');
  assert.equal(parsed.extra, 1);
  assert.ok(Array.isArray(parsed.stack));
});

test('results serialize like the managed runtime', () => {
  assert.equal(serializeResult(undefined), 'null');
  assert.equal(serializeResult({ a: 1 }), '{"a":1}');
  const circular = {};
  circular.self = circular;
  assert.throws(() => serializeResult(circular), { message: 'Unable to stringify response body' });
});

test('log records', () => {
  const level = { name: 'INFO' };
  assert.equal(formatTextRecord('rid', 'T', level, 'a %d', 1, { b: 2 }), 'T\trid\tINFO\ta 1 { b: 2 }');
  const json = JSON.parse(formatJsonRecord('rid', 'T', level, 'hello'));
  assert.deepEqual(json, { timestamp: 'T', level: 'INFO', requestId: 'rid', message: 'hello' });
  const withError = JSON.parse(formatJsonRecord('rid', 'T', level, 'failed', new Error('boom')));
  assert.equal(withError.errorType, 'Error');
  assert.equal(withError.errorMessage, 'boom');
});

function fakeClient() {
  const calls = [];
  return {
    calls,
    postInvocationResponse: (result, id, next) => {
      serializeResult(result);
      calls.push(['response', id, result]);
      next?.();
    },
    postInvocationError: (err, id, next) => {
      calls.push(['error', id, toRapidResponse(err)]);
      next?.();
    },
  };
}

test('only the first callback call counts', () => {
  const client = fakeClient();
  const [callback, context] = buildCallbackContext(client, 'rid', () => {});
  context.callbackWaitsForEmptyEventLoop = false;
  callback(null, 1);
  callback(null, 2);
  context.succeed(3);
  assert.deepEqual(client.calls, [['response', 'rid', 1]]);
});

test('fail() without an error reports "handled"', () => {
  const client = fakeClient();
  const [, context] = buildCallbackContext(client, 'rid', () => {});
  context.fail();
  assert.deepEqual(client.calls, [['error', 'rid', { errorType: 'string', errorMessage: 'handled', trace: [] }]]);
});

test('a result that cannot be serialized can still be reported as an error', () => {
  const client = fakeClient();
  const [callback, context] = buildCallbackContext(client, 'rid', () => {});
  const circular = {};
  circular.self = circular;
  assert.throws(() => context.succeed(circular));
  context.fail(new Error('Unable to stringify response body'));
  assert.equal(client.calls.length, 1);
  assert.equal(client.calls[0][0], 'error');
  callback(null, 1); // already finished
  assert.equal(client.calls.length, 1);
});

test('modules load the way Lambda loads them', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'lambdad-loader-'));
  const write = (name, text) => {
    fs.mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    fs.writeFileSync(path.join(root, name), text);
  };
  write('cjs.js', 'exports.handler = () => "cjs"; exports.nested = { fn: () => "nested" }; exports.num = 1;');
  write('esm.mjs', 'export const handler = () => "mjs";');
  write('other.cjs', 'module.exports.handler = () => "cjs ext";');
  write('src/handlers/app.js', 'exports.handler = () => "deep";');
  write('typed/package.json', '{"type": "module"}');
  write('typed/app.js', 'export const handler = () => "esm js";');
  try {
    assert.equal((await loadHandler(root, 'cjs.handler'))(), 'cjs');
    assert.equal((await loadHandler(root, 'cjs.nested.fn'))(), 'nested');
    assert.equal((await loadHandler(root, 'esm.handler'))(), 'mjs');
    assert.equal((await loadHandler(root, 'other.handler'))(), 'cjs ext');
    assert.equal((await loadHandler(root, 'src/handlers/app.handler'))(), 'deep');
    assert.equal((await loadHandler(root, 'typed/app.handler'))(), 'esm js');
    await assert.rejects(loadHandler(root, 'cjs.missing'), {
      name: 'Runtime.HandlerNotFound',
      message: 'cjs.missing is undefined or not exported',
    });
    await assert.rejects(loadHandler(root, 'cjs.num'), { message: 'cjs.num is not a function' });
    await assert.rejects(loadHandler(root, 'absent.handler'), (e) => {
      assert.ok(e instanceof ImportModuleError);
      assert.match(e.message, /^Error: Cannot find module 'absent'/);
      return true;
    });
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
