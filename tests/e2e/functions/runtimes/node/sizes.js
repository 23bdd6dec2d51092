// Responses over Lambda's 6 MB limit on request (tests/e2e/test_runtimes.py).
exports.handler = async (event) => (event.big ? 'x'.repeat(6 * 1024 * 1024 + 1000) : { small: true });

exports.wrapped = async () => ({
  saw: (process.env.WRAPPER_SAW ?? '').split('\n'),
  wrapped: process.env.WRAPPED,
  argv: process.argv,
});
