'use strict';
// nodejs20.x handler for the control-plane tests: the tests zip this directory with a
// code_version.txt, so the result names the code that produced it.
const fs = require('node:fs');
const path = require('node:path');

let codeVersion = 'template';
try {
  codeVersion = fs.readFileSync(path.join(__dirname, 'code_version.txt'), 'utf8').trim();
} catch { /* the template's copy has none */ }

exports.handler = async (event, context) => ({
  runtime: 'node',
  code: codeVersion,
  functionName: context.functionName,
  functionVersion: context.functionVersion,
  greeting: process.env.GREETING ?? null,
  event,
});
