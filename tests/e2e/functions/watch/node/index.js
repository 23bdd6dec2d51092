const VERSION = "v1";

exports.handler = async (event, context) => ({
  version: VERSION,
  greeting: process.env.GREETING,
  remainingMs: context.getRemainingTimeInMillis(),
});
