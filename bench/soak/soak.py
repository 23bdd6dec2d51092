#!/usr/bin/env python3
"""Soak and load driver for lambdad: starts the daemon on the soak template (bench/soak), sends N
mixed invokes from a few keep-alive connections, samples the daemon's RSS, open fds, threads and
child processes at a fixed interval, checks every answer and every Event's destination record,
and prints a summary (optionally JSON for tests/e2e/test_soak.py).

  soak.py --lambdad build-rel/lambdad --echo-bootstrap build-rel/bench/lambdad_echo_bootstrap \
          [-n 1000000] [--concurrency 4] [--interval 10] [--csv samples.csv] [--json summary.json]

The mix is a fixed function of the invoke's index (see KINDS and kind_of), so the expected count
of every kind and outcome follows from N alone:
  per 100 invokes: 10 Event (C runtime, destinations), 5 errors (Python raises), 15 Python,
  15 Node.js, 55 C echo; and 1 in 10 000 (replacing an echo) a Python function that sleeps past
  its 1 s timeout.
Exit status: 0 when every answer was the expected one and every Event reached its destination;
1 when not (the summary says what); 2 when the daemon could not be started.
"""
import argparse
import collections
import csv
import http.client
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
READY = re.compile(r"Invoke API listening on http://([0-9.]+):(\d+)")
SUCCESS_FILE = "sqs-arn_aws_sqs_us-east-1_123456789012_soak-success.jsonl"
FAILURE_FILE = "sqs-arn_aws_sqs_us-east-1_123456789012_soak-failure.jsonl"

# kind -> (function, expected outcome)
KINDS = {
    "echo": ("Echo", "ok"),
    "python": ("PyHello", "ok"),
    "node": ("NodeHello", "ok"),
    "error": ("PyFails", "function_error"),
    "timeout": ("Sleeper", "timeout"),
    "event": ("EventEcho", "accepted"),
}


def kind_of(i):
    if i % 10000 == 9999:
        return "timeout"
    r = i % 100
    if r < 10:
        return "event"
    if r < 15:
        return "error"
    if r < 30:
        return "python"
    if r < 45:
        return "node"
    return "echo"


def expected_counts(n):
    """{kind: count} for invokes 0..n-1, without enumerating them."""
    counts = collections.Counter()
    full, rest = divmod(n, 10000)
    block = collections.Counter(kind_of(i) for i in range(10000))
    for k, v in block.items():
        counts[k] += v * full
    for i in range(rest):
        counts[kind_of(i)] += 1
    return dict(counts)


# ---------------------------------------------------------------------------------------------
# the daemon and its footprint

class Daemon:
    def __init__(self, lambdad, workdir, extra_args):
        self.log_path = os.path.join(workdir, "lambdad.log")
        self.tmp_root = os.path.join(workdir, "tmp")
        os.makedirs(self.tmp_root, exist_ok=True)
        env = {**os.environ, "LAMBDAD_TMP_ROOT": self.tmp_root}
        self.log = open(self.log_path, "w", encoding="utf-8")
        cmd = [os.path.abspath(lambdad), "serve", "--template", os.path.join(workdir, "template.yaml"), "--port", "0",
               *extra_args]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.log, text=True,
                                     env=env, cwd=workdir, start_new_session=True)
        self.host = self.port = None
        found = threading.Event()

        def pump():
            for line in self.proc.stdout:
                m = READY.search(line)
                if m and not found.is_set():
                    self.host, self.port = m.group(1), int(m.group(2))
                    found.set()
        threading.Thread(target=pump, daemon=True).start()
        deadline = time.monotonic() + 60
        while not found.wait(0.1):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"lambdad did not become ready; see {self.log_path}:\n" + self.tail())
        self.pid = self.proc.pid
        self.state_dir = os.path.join(self.tmp_root, f"lambdad-{self.pid}", ".state")

    def tail(self, lines=30):
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return ""

    def status(self):
        with urllib.request.urlopen(f"http://{self.host}:{self.port}/_lambdad/status", timeout=30) as r:
            return json.loads(r.read())

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode


def descendants(pid):
    """Processes below pid (the environments' runtimes and whatever they started)."""
    children = collections.defaultdict(list)
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        children[ppid].append(int(entry))
    count, todo = 0, [pid]
    while todo:
        for c in children.get(todo.pop(), ()):
            count += 1
            todo.append(c)
    return count


def footprint(pid):
    """(VmRSS kB, threads, open fds, descendant processes) of the daemon."""
    rss = threads = 0
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            elif line.startswith("Threads:"):
                threads = int(line.split()[1])
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    return rss, threads, fds, descendants(pid)


# ---------------------------------------------------------------------------------------------
# the load

class Load:
    def __init__(self, daemon, n, concurrency, timeout_sleep_s):
        self.daemon = daemon
        self.n = n
        self.concurrency = concurrency
        self.timeout_sleep_s = timeout_sleep_s
        self.indices = itertools.count()
        self.lock = threading.Lock()
        self.outcomes = collections.Counter()  # (kind, outcome) -> count
        self.examples = {}  # (kind, outcome) -> first unexpected answer
        self.event_ids = []
        self.done = 0
        self.latency_ms = collections.defaultdict(list)  # kind -> a sample of latencies

    def payload(self, kind, i):
        if kind == "timeout":
            return json.dumps({"n": i, "sleep_s": self.timeout_sleep_s}).encode()
        return json.dumps({"kind": kind, "n": i, "pad": "x" * (i % 64)}).encode()

    def classify(self, kind, i, body, status, headers):
        """(outcome, detail) of one answer; outcome is the expected one only if all checks hold."""
        fn_error = headers.get("X-Amz-Function-Error")
        if kind == "event":
            rid = headers.get("x-amzn-RequestId")
            if status == 202 and rid:
                return "accepted", rid
            return f"http_{status}", None
        if status != 200:
            return f"http_{status}", None
        try:
            doc = json.loads(body)
        except ValueError:
            return "bad_body", None
        if kind in ("error", "timeout"):
            if not fn_error:
                return "no_function_error", None
            text = json.dumps(doc)
            if kind == "error" and doc.get("errorType") == "SoakError" and f"soak error {i}" in text:
                return "function_error", None
            if kind == "timeout" and "timed out" in text.lower():
                return "timeout", None
            return "wrong_error", None
        if fn_error:
            return "unexpected_function_error", None
        if kind == "echo":
            return ("ok", None) if doc.get("n") == i and doc.get("kind") == "echo" else ("wrong_body", None)
        lang = "python" if kind == "python" else "node"
        return ("ok", None) if doc.get("n") == i and doc.get("lang") == lang else ("wrong_body", None)

    def worker(self, crossing, warm_at):
        conn = None
        while True:
            i = next(self.indices)
            if i >= self.n:
                break
            kind = kind_of(i)
            function, _ = KINDS[kind]
            body = self.payload(kind, i)
            headers = {"Content-Type": "application/json"}
            if kind == "event":
                headers["X-Amz-Invocation-Type"] = "Event"
            path = f"/2015-03-31/functions/{function}/invocations"
            started = time.monotonic()
            # No retry: every invoke is sent once, and a broken connection is a failure.
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(self.daemon.host, self.daemon.port, timeout=60)
                conn.request("POST", path, body, headers)
                resp = conn.getresponse()
                data = resp.read()
                status, rheaders = resp.status, resp.headers
                if resp.will_close:
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException) as e:
                if conn is not None:
                    conn.close()
                    conn = None
                status, data, rheaders = 0, repr(e).encode(), {}
            elapsed = (time.monotonic() - started) * 1000
            if status == 0:
                outcome, detail = "connection_error", None
            else:
                outcome, detail = self.classify(kind, i, data, status, rheaders)
            with self.lock:
                self.outcomes[(kind, outcome)] += 1
                if outcome != KINDS[kind][1] and (kind, outcome) not in self.examples:
                    self.examples[(kind, outcome)] = f"#{i} HTTP {status} {dict(rheaders)} {data[:300]!r}"
                if detail:
                    self.event_ids.append(detail)
                if i % 50 == 0 or kind == "timeout":
                    self.latency_ms[kind].append(elapsed)
                self.done += 1
                if self.done == warm_at:
                    crossing.set()
        if conn is not None:
            conn.close()


class Sampler:
    FIELDS = ["t_s", "invokes", "rss_kb", "fds", "threads", "children", "mark"]

    def __init__(self, daemon, load, interval, t0, csv_path):
        self.daemon, self.load, self.interval, self.t0 = daemon, load, interval, t0
        self.rows = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        # Written as it goes, so a run cut short still leaves its curve.
        self.csv_file = open(csv_path, "w", newline="", encoding="utf-8") if csv_path else None
        if self.csv_file:
            self.csv = csv.DictWriter(self.csv_file, fieldnames=self.FIELDS)
            self.csv.writeheader()

    def sample(self, label=""):
        try:
            rss, threads, fds, children = footprint(self.daemon.pid)
        except OSError:  # the daemon is gone: the exit code says why, the -1s say when
            rss = threads = fds = children = -1
        row = {"t_s": round(time.monotonic() - self.t0, 1), "invokes": self.load.done, "rss_kb": rss,
               "fds": fds, "threads": threads, "children": children, "mark": label}
        with self.lock:
            self.rows.append(row)
            if self.csv_file:
                self.csv.writerow(row)
                self.csv_file.flush()
        return row

    def run(self):
        while not self.stop.wait(self.interval):
            self.sample()


def wait_for_events(daemon, expected, deadline_s):
    """Waits until no Event is queued or in flight and the destination files hold `expected`
    records; returns (success records, failure records)."""
    dest = os.path.join(daemon.state_dir, "destinations")
    deadline = time.monotonic() + deadline_s
    while True:
        try:
            st = daemon.status()
        except OSError:  # the daemon is gone or stuck: report what was delivered
            return read_records(os.path.join(dest, SUCCESS_FILE)), read_records(os.path.join(dest, FAILURE_FILE)), -1
        pending = sum(f.get("async", {}).get("queued", 0) + f.get("async", {}).get("inFlight", 0)
                      for f in st["functions"])
        ok = read_records(os.path.join(dest, SUCCESS_FILE))
        failed = read_records(os.path.join(dest, FAILURE_FILE))
        if (pending == 0 and len(ok) + len(failed) >= expected) or time.monotonic() > deadline:
            return ok, failed, pending
        time.sleep(0.5)


def read_records(path):
    try:
        with open(path, encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]
    except FileNotFoundError:
        return []


def slope_kb_per_min(rows):
    if len(rows) < 2:
        return 0.0
    xs = [r["t_s"] / 60 for r in rows]
    ys = [r["rss_kb"] for r in rows]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den if den else 0.0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lambdad", required=True)
    ap.add_argument("--echo-bootstrap", required=True, help="the built bench/echo_bootstrap.c")
    ap.add_argument("-n", type=int, default=1_000_000)
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--interval", type=float, default=10.0, help="seconds between samples")
    ap.add_argument("--warmup", type=float, default=0.1, help="share of the invokes that is warm-up")
    ap.add_argument("--timeout-sleep", type=float, default=3.0, help="seconds Sleeper sleeps (Timeout 1)")
    ap.add_argument("--csv", help="write the samples here")
    ap.add_argument("--json", help="write the summary here")
    ap.add_argument("--workdir", help="keep the daemon's files here (default: a temporary directory)")
    ap.add_argument("serve_args", nargs="*", help="extra `lambdad serve` flags (after --)")
    args = ap.parse_args()

    workdir = args.workdir or tempfile.mkdtemp(prefix="lambdad-soak.")
    os.makedirs(workdir, exist_ok=True)
    for name in ("template.yaml", "python", "node"):
        src, dst = os.path.join(HERE, name), os.path.join(workdir, name)
        if os.path.isdir(src):
            shutil.copytree(src, dst, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(src, dst)
    os.makedirs(os.path.join(workdir, "echo"), exist_ok=True)
    shutil.copy(args.echo_bootstrap, os.path.join(workdir, "echo", "bootstrap"))
    os.chmod(os.path.join(workdir, "echo", "bootstrap"), 0o755)

    try:
        daemon = Daemon(args.lambdad, workdir, args.serve_args)
    except RuntimeError as e:
        print(f"soak: {e}", file=sys.stderr)
        return 2

    t0 = time.monotonic()
    load = Load(daemon, args.n, args.concurrency, args.timeout_sleep)
    sampler = Sampler(daemon, load, args.interval, t0, args.csv)
    start_row = sampler.sample("start")
    sampler_thread = threading.Thread(target=sampler.run, daemon=True)
    sampler_thread.start()
    warm_at = max(1, int(args.n * args.warmup))
    crossing = threading.Event()
    workers = [threading.Thread(target=load.worker, args=(crossing, warm_at)) for _ in range(args.concurrency)]
    for w in workers:
        w.start()
    crossing.wait()
    warm_row = sampler.sample("warm-up end")
    warm_t = time.monotonic()
    for w in workers:
        w.join()
    load_s = time.monotonic() - t0
    sampler.sample("invokes done")

    accepted = len(load.event_ids)
    ok_records, failed_records, pending = wait_for_events(daemon, accepted, deadline_s=max(120, accepted / 50))
    drained_s = time.monotonic() - t0
    # Idle, everything delivered: the daemon's footprint at the end.
    time.sleep(min(2.0, args.interval))
    end_row = sampler.sample("end")
    sampler.stop.set()
    sampler_thread.join()
    try:
        status = daemon.status()
    except OSError:
        status = {}
    exit_code = daemon.stop()

    # ---- checks
    problems = []
    expected = expected_counts(args.n)
    for kind, count in expected.items():
        want = KINDS[kind][1]
        got = load.outcomes.get((kind, want), 0)
        if got != count:
            problems.append(f"{kind}: {got} {want} of {count}")
    for (kind, outcome), count in sorted(load.outcomes.items()):
        if outcome != KINDS[kind][1]:
            problems.append(f"{kind}: {count} x {outcome}, first: {load.examples.get((kind, outcome))}")
    delivered = collections.Counter(r["requestContext"]["requestId"] for r in ok_records)
    accepted_ids = set(load.event_ids)
    missing = accepted_ids - set(delivered)
    duplicates = sum(1 for c in delivered.values() if c > 1)
    unknown = set(delivered) - accepted_ids
    if missing:
        problems.append(f"events: {len(missing)} of {accepted} accepted never reached OnSuccess "
                        f"(e.g. {sorted(missing)[:3]}); {len(failed_records)} OnFailure records; {pending} pending")
    if failed_records:
        problems.append(f"events: {len(failed_records)} OnFailure records, first: {failed_records[0]}")
    if unknown:
        problems.append(f"events: {len(unknown)} records for request ids never accepted")
    if exit_code != 0:
        problems.append(f"lambdad exit status {exit_code} at the end (0 expected on SIGTERM; negative: killed by that signal)")

    rows = sampler.rows
    after_warm = [r for r in rows if r["t_s"] >= warm_row["t_s"]]
    summary = {
        "n": args.n,
        "concurrency": args.concurrency,
        "interval_s": args.interval,
        "expected": expected,
        "outcomes": {f"{k}/{o}": c for (k, o), c in sorted(load.outcomes.items())},
        "events": {"accepted": accepted, "on_success": len(ok_records), "on_failure": len(failed_records),
                   "missing": len(missing), "duplicates": duplicates},
        "load_s": round(load_s, 1),
        "drained_s": round(drained_s, 1),
        "throughput_per_s": round(args.n / load_s, 1),
        "start": start_row,
        "warm": warm_row,
        "end": end_row,
        "max_rss_kb": max(r["rss_kb"] for r in rows),
        "max_fds": max(r["fds"] for r in rows),
        "max_children": max(r["children"] for r in rows),
        "rss_slope_kb_per_min_after_warmup": round(slope_kb_per_min(after_warm), 1),
        "warm_to_end_s": round(time.monotonic() - warm_t, 1),
        "latency_ms_median": {k: round(sorted(v)[len(v) // 2], 2) for k, v in load.latency_ms.items() if v},
        "daemon_exit": exit_code,
        "problems": problems,
        "workdir": workdir,
        "status_functions": {f["name"]: {k: f[k] for k in f if k in ("invocations", "errors", "throttles")}
                             for f in status.get("functions", [])},
    }
    if sampler.csv_file:
        sampler.csv_file.close()
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(summary, f, indent=1)
    print_summary(summary)
    if not args.workdir and not problems:
        shutil.rmtree(workdir, ignore_errors=True)
    return 1 if problems else 0


def print_summary(s):
    mb = lambda kb: f"{kb / 1024:.1f} MB"  # noqa: E731
    print(f"invokes: {s['n']} over {s['concurrency']} keep-alive connections in {s['load_s']} s "
          f"({s['throughput_per_s']} /s); Events drained at {s['drained_s']} s")
    print("by kind and outcome (expected count):")
    for key, count in s["outcomes"].items():
        kind = key.split("/")[0]
        print(f"  {key:28} {count:>9}  ({s['expected'].get(kind, 0)} {KINDS[kind][1]})")
    e = s["events"]
    print(f"events: {e['accepted']} accepted, {e['on_success']} OnSuccess records, {e['on_failure']} OnFailure, "
          f"{e['missing']} missing, {e['duplicates']} duplicated")
    for label in ("start", "warm", "end"):
        r = s[label]
        print(f"daemon at {label:5} (t={r['t_s']:>7} s, {r['invokes']:>8} invokes): RSS {mb(r['rss_kb'])}, "
              f"{r['fds']} fds, {r['threads']} threads, {r['children']} child processes")
    print(f"max: RSS {mb(s['max_rss_kb'])}, {s['max_fds']} fds, {s['max_children']} child processes; "
          f"RSS slope after warm-up {s['rss_slope_kb_per_min_after_warmup']} kB/min; "
          f"RSS end - warm-up {(s['end']['rss_kb'] - s['warm']['rss_kb']) / 1024:+.1f} MB, "
          f"fds end - warm-up {s['end']['fds'] - s['warm']['fds']:+d}")
    print(f"median latency (ms, sampled): {s['latency_ms_median']}")
    if s["problems"]:
        print("PROBLEMS:")
        for p in s["problems"]:
            print(f"  {p}")
    else:
        print("all answers as expected; every Event reached its destination")


if __name__ == "__main__":
    sys.exit(main())
