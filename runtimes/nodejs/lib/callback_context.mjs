// The callback and the succeed/fail/done part of the context for buffered handlers. Only the
// first of these calls counts. With callbackWaitsForEmptyEventLoop (default true) a callback
// result is posted once the event loop is empty; otherwise, and for succeed/fail/done, at once.
import { BeforeExitListener } from './before_exit.mjs';
import { structuredConsole } from './log_patch.mjs';

export function buildCallbackContext(client, id, scheduleNext) {
  let waitForEmptyEventLoop = true;
  let completed = false;

  const postError = (err, next) => {
    structuredConsole.logError('Invoke Error', err);
    client.postInvocationError(err, id, next);
  };

  const complete = (result, next) => {
    if (completed) {
      console.error(
        'Invocation has already been reported as done. Cannot call complete more than once per invocation.',
      );
      return;
    }
    completed = true;
    client.postInvocationResponse(result, id, next);
  };

  const callback = (err, result) => {
    BeforeExitListener.reset();
    if (err !== undefined && err !== null) {
      postError(err, scheduleNext);
    } else if (!waitForEmptyEventLoop) {
      complete(result, scheduleNext);
    } else {
      BeforeExitListener.set(() => setImmediate(() => complete(result, scheduleNext)));
    }
  };

  const done = (err, result) => {
    BeforeExitListener.reset();
    if (err !== undefined && err !== null) {
      postError(err, scheduleNext);
    } else {
      complete(result, scheduleNext);
    }
  };

  // Only the first call of callback/succeed/fail/done takes effect. A call that throws (a
  // result that cannot be serialized) does not count, so the error can still be reported.
  let finished = false;
  const once = (fn) =>
    function (...args) {
      if (!finished) {
        fn(...args);
        finished = true;
      }
    };

  const context = {
    get callbackWaitsForEmptyEventLoop() {
      return waitForEmptyEventLoop;
    },
    set callbackWaitsForEmptyEventLoop(value) {
      waitForEmptyEventLoop = value;
    },
    succeed: once((result) => done(null, result)),
    fail: once((err) => (err === undefined || err === null ? done('handled') : done(err, null))),
    done: once(done),
  };

  const markCompleted = () => {
    completed = true;
  };
  return [once(callback), context, markCompleted];
}
