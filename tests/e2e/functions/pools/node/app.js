'use strict';
// nodejs20.x counterpart of python/app.py's counter, for the per-runtime cold-start delay test.
let count = 0;

exports.counter = async () => {
  count += 1;
  return { count, pid: process.pid };
};
