'use strict';
// nodejs20.x functions for the client conformance tests.

exports.handler = async (event, context) => ({
  runtime: 'node',
  requestId: context.awsRequestId,
  functionName: context.functionName,
  greeting: process.env.GREETING ?? null,
  event,
  keys: event && typeof event === 'object' && !Array.isArray(event) ? Object.keys(event).sort() : null,
});

exports.fail = async (event) => {
  throw new TypeError(`node says no to ${event.name ?? 'nobody'}`);
};
