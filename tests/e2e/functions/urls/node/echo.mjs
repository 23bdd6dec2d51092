// A buffered URL handler: the path and method it was called with.
export const handler = async (event) => ({
  statusCode: 200,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ rawPath: event.rawPath, method: event.requestContext.http.method }),
});
