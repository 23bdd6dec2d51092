"""End-to-end harness: starts the real lambdad on port 0 and hands tests real clients.

Run with Debian's interpreter (/usr/bin/python3), where apt's boto3 lives. The daemon binary is
$LAMBDAD_BIN (CTest sets it) or build/lambdad.
"""
import json
import os
import pathlib
import shutil
import re
import signal
import subprocess
import threading
import time

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
FUNCTIONS = REPO / "tests" / "e2e" / "functions"
LAMBDAD = os.environ.get("LAMBDAD_BIN", str(REPO / "build" / "lambdad"))
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                     "WARNING: ThreadSanitizer")
# Functions run in a Lambda-shaped root (docs/decisions/014) that shows nothing of the host but
# what lambdad shares with `--share`: files a test and its functions exchange live under SHARED,
# which every test daemon shares (tests of the root's isolation start theirs with share=False).
SHARED = pathlib.Path("/var/tmp/lambdad-e2e")
READY = re.compile(r"Invoke API listening on (http://[0-9.]+:\d+)")


class Daemon:
    """One `lambdad serve` process. Logs (stderr) are collected in memory for assertions."""

    def __init__(self, template, *extra_args, env=None, ready_timeout=30, wrap=(), cwd=None, bare=False,
                 share=True):
        """`wrap` prefixes the command (e.g. setpriv to run the daemon as another user). `bare`:
        no --template, --port and --share flags, and `env` is the whole environment (settings from
        a config file or LAMBDAD_* variables, in `cwd`). `share`: --share SHARED."""
        self.template = str(template)
        flags = [] if bare else ["--template", self.template, "--port", "0"]
        if share and not bare:
            SHARED.mkdir(mode=0o1777, exist_ok=True)
            flags += ["--share", str(SHARED)]
        cmd = [*wrap, LAMBDAD, "serve", *flags, *extra_args]
        self.proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1,
            env=env if bare else {**os.environ, **(env or {})}, cwd=cwd, start_new_session=True)
        self._log = []
        self._out = []  # stdout lines after the ready line
        self._log_lock = threading.Lock()
        self._stderr_thread = threading.Thread(target=self._pump_stderr, daemon=True)
        self._stderr_thread.start()
        self.endpoint = self._wait_ready(ready_timeout)

    def _pump_stderr(self):
        for line in self.proc.stderr:
            with self._log_lock:
                self._log.append(line)

    def _wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        result = {}

        def read():
            for line in self.proc.stdout:
                m = READY.search(line)
                if m:
                    result["endpoint"] = m.group(1)
                    return

        t = threading.Thread(target=read, daemon=True)
        t.start()
        t.join(max(0.0, deadline - time.monotonic()))
        if "endpoint" not in result:
            self.stop()
            raise RuntimeError("lambdad did not become ready; log:\n" + self.logs())
        # Keep draining stdout so the daemon never blocks on a full pipe; what follows the ready
        # line (the API port's routes) is kept for stdout_after_ready().
        threading.Thread(target=lambda: [self._out.append(line) for line in self.proc.stdout], daemon=True).start()
        return result["endpoint"]

    @property
    def port(self):
        return int(self.endpoint.rsplit(":", 1)[1])

    def logs(self):
        with self._log_lock:
            return "".join(self._log)

    def stdout_after_ready(self, pattern, timeout=10):
        """Waits for a stdout line after the ready line to match a regex; returns all of them."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            lines = list(self._out)
            if any(rx.search(line) for line in lines):
                return lines
            time.sleep(0.02)
        raise AssertionError(f"stdout never matched {pattern!r}: {self._out!r}; log:\n{self.logs()}")

    def wait_for_log(self, pattern, timeout=10):
        """Polls the collected log for a regex; returns the match or fails."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = rx.search(self.logs())
            if m:
                return m
            time.sleep(0.02)
        raise AssertionError(f"log never matched {pattern!r}; log:\n{self.logs()}")

    def stop_and_check(self):
        """Stops with SIGTERM; returns problems: a non-zero exit, or a sanitizer report at exit
        (a leak, a use-after-free during shutdown) in the sanitizer build."""
        rc = self.stop()
        log = self.logs()
        problems = []
        if rc != 0:
            problems.append(f"lambdad exited with {rc} on SIGTERM")
        problems += [f"sanitizer report ({m!r}) in the daemon log" for m in SANITIZER_MARKERS if m in log]
        if problems:
            problems.append("log (tail):\n" + log[-20000:])
        return problems

    def stop(self, sig=signal.SIGTERM, timeout=10):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        return self.proc.returncode


@pytest.fixture
def start_daemon():
    """start_daemon(template, *args) -> Daemon; every daemon is stopped after the test."""
    started = []

    def start(template, *args, **kwargs):
        d = Daemon(template, *args, **kwargs)
        started.append(d)
        return d

    yield start
    problems = [p for d in started for p in d.stop_and_check()]
    assert not problems, "\n".join(problems)


@pytest.fixture
def host_dir():
    """A directory both the test and its functions can see: under SHARED, which test daemons
    share with their functions (their root shows nothing else of the host)."""
    import shutil
    import tempfile

    SHARED.mkdir(mode=0o1777, exist_ok=True)
    d = pathlib.Path(tempfile.mkdtemp(prefix="t-", dir=SHARED))
    d.chmod(0o777)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def lambda_client(endpoint, read_timeout=60):
    import boto3
    from botocore.config import Config

    return boto3.client(
        "lambda", endpoint_url=endpoint, region_name="us-east-1",
        aws_access_key_id="test", aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}, read_timeout=read_timeout,
                      connect_timeout=5))


def invoke(client, name, payload=None, **kwargs):
    """client.invoke with the payload read into "Body" (a dict payload is sent as JSON)."""
    args = {"FunctionName": name, **kwargs}
    if payload is not None:
        args["Payload"] = payload if isinstance(payload, (bytes, str)) else json.dumps(payload)
    response = client.invoke(**args)
    response["Body"] = response.pop("Payload").read()
    return response


def wait_for(predicate, timeout=60, what="condition"):
    """Polls until predicate() is truthy and returns its value, or fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


AWS_CLI = "/usr/bin/aws"  # named explicitly: the `aws` first on PATH may be a v1 from a Python environment


@pytest.fixture(scope="module")
def cli_env(tmp_path_factory):
    """The environment for AWS CLI v2 runs: a private, empty config and dummy credentials."""
    if not os.access(AWS_CLI, os.X_OK):
        pytest.fail(f"{AWS_CLI} (AWS CLI v2, apt package awscli) is not installed")
    version = subprocess.run([AWS_CLI, "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.startswith("aws-cli/2."), version.stdout
    home = tmp_path_factory.mktemp("aws-home")
    (home / "config").write_text("")
    (home / "credentials").write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({
        "HOME": str(home),
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_PAGER": "",
        "AWS_CONFIG_FILE": str(home / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"),
        "AWS_MAX_ATTEMPTS": "1",
        "AWS_RETRY_MODE": "standard",
        "AWS_EC2_METADATA_DISABLED": "true",
    })
    return env


def node_packages_needed(name):
    """The top-level packages of REPO/node_modules that `name` needs, itself included, resolved
    as Node resolves them (a package's own node_modules first, copied along with it)."""
    needed, queue = set(), [(name, (REPO / "node_modules") / name)]
    while queue:
        top, pkg_dir = queue.pop()
        manifest = json.loads((pkg_dir / "package.json").read_text())
        for dep in manifest.get("dependencies", {}):
            here = pkg_dir
            while True:
                candidate = here / "node_modules" / dep
                if (candidate / "package.json").is_file():
                    break
                if here == REPO:
                    raise AssertionError(f"{dep} (needed by {pkg_dir}) is not installed; run `npm ci` in {REPO}")
                here = here.parent
            if candidate == (REPO / "node_modules") / dep:
                if dep not in needed:
                    needed.add(dep)
                    queue.append((dep, candidate))
            else:
                queue.append((top, candidate))  # nested: copied with its top-level package
        needed.add(top)
    return sorted(needed)


def copy_node_packages(name, code_dir):
    """Copies npm package `name` and what it needs from REPO/node_modules into code_dir's own
    node_modules: a deployed function ships its dependencies (and an ES module's imports do not
    search NODE_PATH)."""
    for pkg in node_packages_needed(name):
        shutil.copytree(REPO / "node_modules" / pkg, code_dir / "node_modules" / pkg, symlinks=False)
