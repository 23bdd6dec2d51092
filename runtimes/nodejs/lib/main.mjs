// lambdad's Node.js runtime client: the process lambdad starts for nodejs*.x functions as
// `<node> <repo>/runtimes/nodejs/bootstrap.mjs` (this module and those it imports, bundled into
// one file by scripts/bundle-node-runtime.mjs) with the code directory as cwd and Lambda's
// environment (AWS_LAMBDA_RUNTIME_API, _HANDLER, LAMBDA_TASK_ROOT, ...). No dependencies;
// Node >= 18. Init failures are posted to /runtime/init/error and the process exits.
import { BeforeExitListener } from './before_exit.mjs';
import {
  ConcurrentRuntime,
  concurrencyFromEnv,
  installInvokeStore,
  refuseCallbackHandler,
} from './concurrent.mjs';
import { UnhandledPromiseRejection } from './errors.mjs';
import {
  HANDLER_HIGHWATERMARK,
  HANDLER_STREAMING,
  STREAM_RESPONSE,
  handlerMetadata,
  loadHandler,
} from './handler_loader.mjs';
import { patchConsole, structuredConsole } from './log_patch.mjs';
import { confineModulePaths } from './module_paths.mjs';
import { HttpResponseStream } from './response_stream.mjs';
import { Runtime } from './runtime.mjs';
import { RuntimeApiClient, exitAfterFlush } from './runtime_api_client.mjs';

function defineAwsLambdaGlobal() {
  const off = process.env.AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA;
  if (off === '1' || off === 'true') return;
  globalThis.awslambda = {
    streamifyResponse: (handler, options) => {
      handler[HANDLER_STREAMING] = STREAM_RESPONSE;
      if (typeof options?.highWaterMark === 'number') {
        handler[HANDLER_HIGHWATERMARK] = parseInt(options.highWaterMark);
      }
      return handler;
    },
    HttpResponseStream,
  };
}

async function main() {
  patchConsole();
  const address = process.env.AWS_LAMBDA_RUNTIME_API;
  if (!address) {
    process.stderr.write('lambdad nodejs runtime: AWS_LAMBDA_RUNTIME_API is not set\n');
    process.exit(1);
  }
  // Lambda Managed Instances: that many invocations at once (concurrent.mjs).
  const concurrency = concurrencyFromEnv(process.env.AWS_LAMBDA_MAX_CONCURRENCY);
  const client = new RuntimeApiClient(address, { tolerateRefusedPosts: concurrency !== undefined });

  // Until the first invocation arrives, uncaught errors are init errors. Between invocations
  // (waiting on /next) there is no invocation to report them to: the process just exits.
  const exitWith = (code) => () => exitAfterFlush(code);
  const errorCallbacks = {
    uncaughtException: (error) => client.postInitError(error, exitWith(129)),
    unhandledRejection: (error) => client.postInitError(error, exitWith(128)),
    setIdle() {
      this.uncaughtException = exitWith(129);
      this.unhandledRejection = exitWith(128);
    },
  };
  process.on('uncaughtException', (error) => {
    structuredConsole.logError('Uncaught Exception', error);
    errorCallbacks.uncaughtException(error);
  });
  process.on('unhandledRejection', (reason, promise) => {
    const error = new UnhandledPromiseRejection(reason, promise);
    structuredConsole.logError('Unhandled Promise Rejection', error);
    errorCallbacks.unhandledRejection(error);
  });
  BeforeExitListener.reset();
  process.on('beforeExit', BeforeExitListener.invoke);

  defineAwsLambdaGlobal();
  const store = concurrency === undefined ? undefined : installInvokeStore();
  confineModulePaths(process.env.LAMBDA_TASK_ROOT || process.cwd());
  let handler;
  let metadata;
  try {
    handler = await loadHandler(process.env.LAMBDA_TASK_ROOT || process.cwd(), process.env._HANDLER ?? '');
    metadata = handlerMetadata(handler);
    if (store) refuseCallbackHandler(metadata);
  } catch (error) {
    structuredConsole.logError('Uncaught Exception', error);
    errorCallbacks.uncaughtException(error);
    return;
  }
  // `--snapstart` (Lambda has no SnapStart for Node.js, so no hooks API either): SnapStart's
  // sequence in place, /restore/next before the first invocation (docs/decisions/023).
  if (process.env.AWS_LAMBDA_INITIALIZATION_TYPE === 'snap-start') await client.restoreNext();
  if (store) {
    const clients = ConcurrentRuntime.clientsFor(client, address, concurrency);
    new ConcurrentRuntime({ clients, handler, metadata, store, errorCallbacks }).start();
    return;
  }
  new Runtime(client, handler, metadata, errorCallbacks).scheduleIteration();
}

await main();
