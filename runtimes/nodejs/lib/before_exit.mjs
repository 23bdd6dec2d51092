// The one 'beforeExit' action of the runtime. Node emits 'beforeExit' when the event loop has
// nothing left to do; that is the moment a callback handler with callbackWaitsForEmptyEventLoop
// (the default) is finished, or a handler that never answered is detected.
const SLOT = Symbol.for('aws.lambda.beforeExit');
const noop = () => {};

export const BeforeExitListener = {
  invoke: () => globalThis[SLOT](),
  reset: () => {
    globalThis[SLOT] = noop;
  },
  set: (listener) => {
    globalThis[SLOT] = listener;
  },
};
