export const handler = awslambda.streamifyResponse(async (event, responseStream) => {
  responseStream.setContentType('text/plain');
  responseStream.write('streamed ');
  responseStream.write('hello');
  responseStream.end();
});
