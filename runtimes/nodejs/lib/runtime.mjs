// The invoke loop: wait for /next, call the handler (buffered or streaming), post its outcome,
// and schedule the next iteration. Uncaught errors during an invocation are posted as that
// invocation's error and end the process, as in Lambda's Node.js runtime.
import { BeforeExitListener } from './before_exit.mjs';
import { buildCallbackContext } from './callback_context.mjs';
import { NodeJsExit, InvalidStreamingOperation } from './errors.mjs';
import { STREAM_RESPONSE } from './handler_loader.mjs';
import { InvokeContext } from './invoke_context.mjs';
import { structuredConsole } from './log_patch.mjs';
import { createResponseStream, failStream } from './response_stream.mjs';
import { exitAfterFlush } from './runtime_api_client.mjs';

const isPromise = (value) => value && typeof value.then === 'function';

export class Runtime {
  constructor(client, handler, metadata, errorCallbacks) {
    this.client = client;
    this.handler = handler;
    this.metadata = metadata;
    this.errorCallbacks = errorCallbacks;
    this.handleOnce =
      metadata.streaming === STREAM_RESPONSE ? this.handleOnceStreaming : this.handleOnceBuffered;
  }

  scheduleIteration() {
    setImmediate(() => {
      this.handleOnce().then(
        () => {},
        (err) => {
          console.log(`Unexpected Top Level Error: ${err.toString()}`);
          this.errorCallbacks.uncaughtException(err);
        },
      );
    });
  }

  async nextInvocation() {
    // While /next is pending there is no invocation to blame for an uncaught error.
    this.errorCallbacks.setIdle();
    const invocation = await this.client.nextInvocation();
    const context = new InvokeContext(invocation.headers);
    context.updateLoggingContext();
    this.setErrorCallbacks(context.invokeId);
    return { body: invocation.bodyJson, context };
  }

  async handleOnceBuffered() {
    const { body, context: invokeContext } = await this.nextInvocation();
    const [callback, callbackContext, markCompleted] = buildCallbackContext(
      this.client,
      invokeContext.invokeId,
      () => this.scheduleIteration(),
    );
    try {
      this.setDefaultExitListener(invokeContext.invokeId, markCompleted, this.metadata.isAsync);
      const result = this.handler(
        JSON.parse(body),
        invokeContext.attachEnvironmentData(callbackContext),
        callback,
      );
      if (isPromise(result)) {
        result.then(callbackContext.succeed, callbackContext.fail).catch(callbackContext.fail);
      }
    } catch (err) {
      callback(err);
    }
  }

  async handleOnceStreaming() {
    const { body, context: invokeContext } = await this.nextInvocation();
    const id = invokeContext.invokeId;
    let waitForEmptyEventLoop = true;
    const scheduleNext = () => {
      BeforeExitListener.reset();
      if (!waitForEmptyEventLoop) {
        this.scheduleIteration();
      } else {
        BeforeExitListener.set(() => setImmediate(() => this.scheduleIteration()));
      }
    };
    const streamingContext = {
      get callbackWaitsForEmptyEventLoop() {
        return waitForEmptyEventLoop;
      },
      set callbackWaitsForEmptyEventLoop(value) {
        waitForEmptyEventLoop = value;
      },
    };
    const { stream, responseDone } = createResponseStream(this.client, id);
    const fail = (err, next) => {
      structuredConsole.logError('Invoke Error', err);
      failStream(stream, err, next);
    };

    try {
      BeforeExitListener.set(() => this.scheduleIteration());
      const ctx = invokeContext.attachEnvironmentData(streamingContext);
      const result = this.handler(JSON.parse(body), stream, ctx);
      if (!isPromise(result)) {
        fail(new InvalidStreamingOperation('Streaming does not support non-async handlers.'), scheduleNext);
        return;
      }
      if ((await result) !== undefined) console.warn('Streaming handlers ignore return values.');
      await responseDone;
      if (!stream.writableFinished) {
        fail(new InvalidStreamingOperation('Response stream is not finished.'), scheduleNext);
        return;
      }
      scheduleNext();
    } catch (err) {
      fail(err, scheduleNext);
    }
  }

  setErrorCallbacks(id) {
    this.errorCallbacks.uncaughtException = (error) =>
      this.client.postInvocationError(error, id, () => exitAfterFlush(129));
    this.errorCallbacks.unhandledRejection = (error) =>
      this.client.postInvocationError(error, id, () => exitAfterFlush(128));
  }

  // If the event loop empties and nothing answered: a sync or callback handler answered null,
  // an async handler left a promise unsettled (Runtime.NodeJsExit).
  setDefaultExitListener(id, markCompleted, isAsync) {
    BeforeExitListener.set(() => {
      markCompleted();
      if (isAsync) {
        const error = new NodeJsExit();
        structuredConsole.logError('Invoke Error', error);
        this.client.postInvocationError(error, id, () => this.scheduleIteration());
      } else {
        this.client.postInvocationResponse(null, id, () => this.scheduleIteration());
      }
    });
  }
}
