// An internal extension of a Node.js function, loaded with NODE_OPTIONS=--require ./probe.js
// before the runtime: it registers (synchronously, with curl, so that it is done before the
// runtime asks its first /next and registration closes), is refused SHUTDOWN, and records its
// INVOKE events.
const http = require("http");
const { execFileSync } = require("child_process");

const api = process.env.AWS_LAMBDA_RUNTIME_API;
const [host, port] = api.split(":");
globalThis.probe = { events: [], refused: null, id: null };

function call(method, path, headers, body) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port, method, path: `/2020-01-01/extension/${path}`, headers }, (res) => {
      let text = "";
      res.on("data", (c) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body: text }));
    });
    req.on("error", reject);
    if (body) req.write(body);
    req.end();
  });
}

const head = execFileSync("curl", ["-sS", "-D", "-", "-o", "/dev/null", "-X", "POST",
  "-H", "Lambda-Extension-Name: probe-node", "-d", JSON.stringify({ events: ["INVOKE"] }),
  `http://${api}/2020-01-01/extension/register`], { encoding: "utf8" });
globalThis.probe.id = /^lambda-extension-identifier: *(\S+)/im.exec(head)[1];

(async () => {
  const refused = await call("POST", "register", { "Lambda-Extension-Name": "probe-node-shutdown" },
    JSON.stringify({ events: ["INVOKE", "SHUTDOWN"] }));
  globalThis.probe.refused = { status: refused.status, body: JSON.parse(refused.body) };
  for (;;) {
    const ev = await call("GET", "event/next", { "Lambda-Extension-Identifier": globalThis.probe.id });
    globalThis.probe.events.push(JSON.parse(ev.body));
  }
})();
