// nodejs20.x functions for the resource-limit tests (tests/e2e/test_limits.py).
const fs = require("fs");

function statusKb(field) {
  const line = fs.readFileSync("/proc/self/status", "utf8").split("\n").find((l) => l.startsWith(field + ":"));
  return line ? parseInt(line.split(/\s+/)[1], 10) : null;
}

// Hello world, with the process's own resident set (VmRSS) and peak (VmHWM) in kB.
exports.resident = async () => ({ vmRssKb: statusKb("VmRSS"), vmHwmKb: statusKb("VmHWM"), pid: process.pid });

// One buffer of {"mb": N} MB, every byte written (so resident), held {"hold_s": s}.
exports.buffers = async (event) => {
  const buf = Buffer.alloc(event.mb << 20, 1);
  await new Promise((resolve) => setTimeout(resolve, (event.hold_s || 0) * 1000));
  return { mb: buf.length >> 20, vmRssKb: statusKb("VmRSS") };
};
