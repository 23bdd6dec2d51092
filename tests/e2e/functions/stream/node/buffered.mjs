// A buffered (non-streaming) handler: InvokeWithResponseStream returns its result in one chunk.
export const handler = async (event) => {
  if (event.fail) throw new TypeError(`buffered failure: ${event.fail}`);
  return { buffered: true, event };
};
