// Turns _HANDLER ("file.fn", "dir/sub/file.fn", "file.obj.fn") into the function to call,
// loading the file the way Lambda's Node.js runtime does: extensionless and CommonJS .js files
// with require(), .js under a package.json with "type": "module" and .mjs with import(), .cjs
// with require(), and finally a Node-style module lookup from the task root.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  HandlerNotFound,
  ImportModuleError,
  MalformedHandlerName,
  MalformedStreamingHandler,
  UserCodeSyntaxError,
} from './errors.mjs';

const require = createRequire(import.meta.url);

const FUNCTION_EXPR = /^([^.]*)\.(.*)$/;
export const HANDLER_STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming');
export const HANDLER_HIGHWATERMARK = Symbol.for('aws.lambda.runtime.handler.streaming.highWaterMark');
export const STREAM_RESPONSE = 'response';

/** {moduleRoot, moduleName, handlerPath} of a handler string, or MalformedHandlerName. */
export function parseHandler(fullHandler) {
  if (fullHandler.includes('..')) {
    throw new MalformedHandlerName(
      `'${fullHandler}' is not a valid handler name. Use absolute paths when specifying root directories in handler names.`,
    );
  }
  const base = path.basename(fullHandler);
  const moduleRoot = fullHandler.substring(0, fullHandler.indexOf(base));
  const match = base.match(FUNCTION_EXPR);
  if (!match) throw new MalformedHandlerName('Bad handler');
  return { moduleRoot, moduleName: match[1], handlerPath: match[2] };
}

/** Whether the nearest package.json above `folder` says "type": "module". */
export function isEsmFolder(folder) {
  for (let dir = folder; ; dir = path.resolve(dir, '..')) {
    if (dir.endsWith('/node_modules')) return false;
    const pj = path.join(dir, 'package.json');
    if (fs.existsSync(pj)) {
      try {
        return JSON.parse(fs.readFileSync(pj, 'utf8'))?.type === 'module';
      } catch (e) {
        console.warn(`${pj} cannot be read, it will be ignored for ES module detection purposes.`, e);
        return false;
      }
    }
    if (dir === '/') return false;
  }
}

function requireIfExists(file) {
  return fs.existsSync(file) ? require(file) : undefined;
}

async function importIfExists(file) {
  return fs.existsSync(file) ? import(pathToFileURL(file).href) : undefined;
}

async function loadModule(appRoot, moduleRoot, moduleName) {
  const base = path.resolve(appRoot, moduleRoot, moduleName);
  const extensionless = requireIfExists(base);
  if (extensionless) return extensionless;

  const esm = isEsmFolder(path.dirname(base));
  if (!esm) {
    const cjs = requireIfExists(base + '.js');
    if (cjs) return cjs;
  }
  const loaded =
    (esm && (await importIfExists(base + '.js'))) ||
    (await importIfExists(base + '.mjs')) ||
    requireIfExists(base + '.cjs');
  if (loaded) return loaded;

  // Not a file next to the task root: resolve it like a package name.
  return require(require.resolve(moduleName, { paths: [appRoot, moduleRoot] }));
}

function resolvePath(object, dottedPath) {
  return dottedPath.split('.').reduce((nested, key) => nested && nested[key], object);
}

/** Loads the handler function; throws Runtime.* errors for the cases Lambda names. */
export async function loadHandler(appRoot, fullHandler) {
  const { moduleRoot, moduleName, handlerPath } = parseHandler(fullHandler);
  let module;
  try {
    module = await loadModule(appRoot, moduleRoot, moduleName);
  } catch (e) {
    if (e instanceof SyntaxError) throw new UserCodeSyntaxError(e);
    if (e?.code === 'MODULE_NOT_FOUND') throw new ImportModuleError(e);
    throw e;
  }
  const handler = resolvePath(module, handlerPath);
  if (!handler) throw new HandlerNotFound(`${fullHandler} is undefined or not exported`);
  if (typeof handler !== 'function') throw new HandlerNotFound(`${fullHandler} is not a function`);
  return handler;
}

/** How the handler is to be called: streaming or buffered, async, number of parameters. */
export function handlerMetadata(handler) {
  let streaming = false;
  const mark = handler[HANDLER_STREAMING];
  if (mark !== undefined && mark !== null && mark !== false) {
    if (mark !== STREAM_RESPONSE) {
      throw new MalformedStreamingHandler('Only response streaming is supported.');
    }
    streaming = STREAM_RESPONSE;
  }
  const hwm = parseInt(handler[HANDLER_HIGHWATERMARK]);
  return {
    streaming,
    highWaterMark: Number.isNaN(hwm) ? undefined : hwm,
    isAsync: handler.constructor?.name === 'AsyncFunction',
    argsNum: handler.length,
  };
}
