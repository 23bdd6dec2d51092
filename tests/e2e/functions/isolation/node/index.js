// What a Node.js function sees of its environment (tests/e2e/test_isolation.py).
const fs = require('node:fs');

exports.where = async (event) => ({
  cwd: process.cwd(),
  file: __filename,
  pwd: process.env.PWD,
  taskRoot: process.env.LAMBDA_TASK_ROOT,
  nodePath: process.env.NODE_PATH,
  exists: Object.fromEntries((event.paths || []).map((p) => [p, fs.existsSync(p)])),
});

exports.requires = async (event) => {
  const mod = require(event.module);
  return { module: event.module, type: typeof mod };
};
