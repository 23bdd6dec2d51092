// Echoes the HTTP API event (payload 2.0 or 1.0) the tests check.
exports.echo = async (event) => ({
  statusCode: 200,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ event }),
});
