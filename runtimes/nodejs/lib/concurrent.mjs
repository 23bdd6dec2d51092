// Lambda Managed Instances (lambda-spec §11, docs/decisions/028): with AWS_LAMBDA_MAX_CONCURRENCY=N
// one environment serves up to N invocations at once. The runtime runs N /next loops in this
// process, each on its own connection and each asking for its next invocation once its current
// one is answered, so that N are in flight at most.
//
// What differs from the classic loop (runtime.mjs), as in Lambda's Node.js client in this mode:
// - Each invocation runs in its own async context (invoke_store.mjs): log records carry its
//   request id. _X_AMZN_TRACE_ID is not set in process.env, which every invocation shares; the
//   trace id is context.xRayTraceId and awslambda.InvokeStore.getXRayTraceId().
// - The result is what the handler returns or its promise resolves to. Callback handlers are
//   refused at init (Runtime.CallbackHandlerDeprecated): the empty event loop that
//   callbackWaitsForEmptyEventLoop waits for never comes while other invocations and polls run,
//   and for the same reason a promise that never settles is not detected (Runtime.NodeJsExit):
//   its invocation runs until it times out.
// - An uncaught exception or unhandled rejection cannot be told to belong to one invocation: it
//   ends the process (main.mjs), which fails the environment and every invocation in flight.
// - A post the Runtime API refuses (410: its invocation timed out) is logged and the loop goes on.
import { CallbackHandlerDeprecated, InvalidStreamingOperation } from './errors.mjs';
import { STREAM_RESPONSE } from './handler_loader.mjs';
import { InvokeContext } from './invoke_context.mjs';
import { InvokeStore } from './invoke_store.mjs';
import { readIdsFromStore, structuredConsole } from './log_patch.mjs';
import { createResponseStream, failStream } from './response_stream.mjs';
import { RuntimeApiClient } from './runtime_api_client.mjs';

const thenable = (value) => value && typeof value.then === 'function';

/** AWS_LAMBDA_MAX_CONCURRENCY as a number of loops; undefined when the variable is not set. */
export function concurrencyFromEnv(value) {
  if (value === undefined) return undefined;
  const count = /^\s*\d+\s*$/.test(value) ? Number(value) : 0;
  if (!(count >= 1)) {
    process.stderr.write(`lambdad nodejs runtime: AWS_LAMBDA_MAX_CONCURRENCY must be an integer >= 1, not '${value}'\n`);
    process.exit(1);
  }
  return count;
}

/** The store of the current invocation, for log records and as awslambda.InvokeStore. */
export function installInvokeStore() {
  const store = new InvokeStore();
  readIdsFromStore(store);
  if (globalThis.awslambda) globalThis.awslambda.InvokeStore = store;
  return store;
}

/** Init fails for a callback handler (three parameters), as on Lambda in this mode. */
export function refuseCallbackHandler(metadata) {
  if (metadata.argsNum >= 3 && metadata.streaming !== STREAM_RESPONSE) {
    throw new CallbackHandlerDeprecated(
      'Callback-based handlers (event, context, callback) cannot run with Lambda Managed Instances: ' +
        'return a promise (an async handler) instead.',
    );
  }
}

/** Resolves once `post` has called its callback (the Runtime API took the post). */
function posted(post) {
  return new Promise((resolve) => post(resolve));
}

export class ConcurrentRuntime {
  constructor({ clients, handler, metadata, store, errorCallbacks }) {
    this.clients = clients;
    this.handler = handler;
    this.store = store;
    this.errorCallbacks = errorCallbacks;
    this.handle = metadata.streaming === STREAM_RESPONSE ? this.handleStreaming : this.handleBuffered;
  }

  /** `count` clients: the one init used, and one more connection per further loop. */
  static clientsFor(first, address, count) {
    const clients = [first];
    while (clients.length < count) clients.push(new RuntimeApiClient(address, { tolerateRefusedPosts: true }));
    return clients;
  }

  start() {
    // Init is over at the first /next; from now on an uncaught error has no invocation to go to.
    this.errorCallbacks.setIdle();
    for (const client of this.clients) {
      this.loop(client).catch((err) => {
        console.log(`Unexpected Top Level Error: ${err.toString()}`);
        this.errorCallbacks.uncaughtException(err);
      });
    }
  }

  async loop(client) {
    for (;;) {
      const invocation = await client.nextInvocation();
      const invokeContext = new InvokeContext(invocation.headers);
      const id = invokeContext.invokeId;
      await this.store.runInvocation(id, invokeContext.traceId, invokeContext.tenantId, () =>
        this.handle(client, invokeContext, id, invocation.bodyJson),
      );
    }
  }

  context(invokeContext) {
    return invokeContext.attachInvocationData({ xRayTraceId: invokeContext.traceId });
  }

  async handleBuffered(client, invokeContext, id, body) {
    let result;
    try {
      result = this.handler(JSON.parse(body), this.context(invokeContext));
      if (thenable(result)) result = await result;
    } catch (err) {
      structuredConsole.logError('Invoke Error', err);
      await posted((done) => client.postInvocationError(err, id, done));
      return;
    }
    try {
      await posted((done) => client.postInvocationResponse(result, id, done));
    } catch (err) {
      // The result could not be serialized: that is the invocation's error.
      structuredConsole.logError('Invoke Error', err);
      await posted((done) => client.postInvocationError(err, id, done));
    }
  }

  async handleStreaming(client, invokeContext, id, body) {
    const { stream, responseDone } = createResponseStream(client, id);
    const fail = (err) => {
      structuredConsole.logError('Invoke Error', err);
      return new Promise((resolve) => failStream(stream, err, resolve));
    };
    try {
      const result = this.handler(JSON.parse(body), stream, this.context(invokeContext));
      if (!thenable(result)) {
        return fail(new InvalidStreamingOperation('Streaming does not support non-async handlers.'));
      }
      if ((await result) !== undefined) console.warn('Streaming handlers ignore return values.');
      await responseDone;
      if (!stream.writableFinished) return fail(new InvalidStreamingOperation('Response stream is not finished.'));
    } catch (err) {
      return fail(err);
    }
  }
}
