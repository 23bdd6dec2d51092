// A function whose module-level code patches every HTTP entry point a library might patch (the
// X-Ray SDK, nock, fetch mocks): each patch records its call and throws. The runtime's own
// requests to the Runtime API must reach none of them (tests/e2e/test_runtimes.py).
const http = require('node:http');
const https = require('node:https');
const net = require('node:net');

const calls = [];
const trap = (name) => () => {
  calls.push(name);
  throw new Error(`${name} is patched by the function`);
};
http.request = trap('http.request');
http.get = trap('http.get');
https.request = trap('https.request');
globalThis.fetch = trap('fetch');
net.connect = trap('net.connect');
net.createConnection = trap('net.createConnection');
net.Socket.prototype.connect = trap('net.Socket.prototype.connect');

exports.handler = async () => ({ calls });

exports.streamed = awslambda.streamifyResponse(async (event, stream) => {
  stream.write(JSON.stringify({ calls }));
  stream.end();
});
