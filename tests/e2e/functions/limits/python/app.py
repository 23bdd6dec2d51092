"""python3.12 functions for the resource-limit tests (tests/e2e/test_limits.py)."""
import os
import resource
import sys
import threading
import time

COUNT = 0
MARKER = "lambdad-e2e-marker"


def _status_kb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return None


def allocate(event, context):
    """Allocates {"mb": N} MB in touched 8 MB chunks, holds it {"hold_s": s}, and reports the
    process's own resident set (VmRSS) and peak (VmHWM) in kB while still holding it."""
    chunk = 8 << 20
    held = [b"\x01" * chunk for _ in range(event["mb"] * (1 << 20) // chunk)]
    if event.get("hold_s"):
        time.sleep(event["hold_s"])
    result = {"mb": len(held) * chunk >> 20, "vmRssKb": _status_kb("VmRSS"), "vmHwmKb": _status_kb("VmHWM"),
              "pid": os.getpid()}
    del held
    return result


def resident(event, context):
    """Hello world, with the process's own resident set (VmRSS) and peak (VmHWM) in kB."""
    return {"vmRssKb": _status_kb("VmRSS"), "vmHwmKb": _status_kb("VmHWM"), "pid": os.getpid()}


def buffers(event, context):
    """One buffer of {"mb": N} MB, every page written (so resident), held {"hold_s": s}."""
    buf = bytearray(event["mb"] << 20)
    for i in range(0, len(buf), 4096):
        buf[i] = 1
    time.sleep(event.get("hold_s", 0))
    return {"mb": len(buf) >> 20, "vmRssKb": _status_kb("VmRSS")}


def fork_bomb(event, context):
    """A bounded bomb of processes and threads (Lambda's limit of 1024 counts both): every process
    forks once per level, so `depth` levels make 2**depth processes; each child then starts
    threads until that fails or it has `threads` of them (8 x 600 = 4800 tasks without a pids
    limit, so it ends without one too). Threads are started quickly where forks of a python
    process are slow on a busy host, so the limit is met within the timeout. Every failure is
    printed; the root holds its environment until the function times out."""
    depth, threads = event.get("depth", 3), event.get("threads", 600)
    root = os.getpid()
    sys.stdout.flush()  # children must not inherit and repeat buffered output
    for _ in range(depth):
        try:
            os.fork()  # parent and child both go on to the next level
        except OSError as e:
            print(f"fork failed in {os.getpid()}: {type(e).__name__}: {e}", flush=True)
            break
    if os.getpid() == root:
        time.sleep(event.get("hold_s", 120))
        return {"held": True}
    never = threading.Event()
    started = 0
    try:
        while started < threads:
            threading.Thread(target=never.wait, args=(120,), daemon=True).start()
            started += 1
        print(f"started {started} threads in {os.getpid()}", flush=True)
    except RuntimeError as e:
        print(f"thread limit in {os.getpid()} after {started} threads: {e}", flush=True)
    never.wait(120)
    os._exit(0)


def flood(event, context):
    """Writes {"mb": N} MB to stdout in 1 KiB lines."""
    line = "x" * 1023 + "\n"
    lines = event["mb"] * 1024
    for _ in range(lines):
        sys.stdout.write(line)
    sys.stdout.flush()
    return {"bytes": lines * len(line)}


def echo(event, context):
    return {"event": event, "pid": os.getpid()}


def tmp(event, context):
    """Counts invokes in memory and keeps a marker file in the environment's temporary directory:
    {"op": "write"} writes the count, {"op": "sleep", "s": s} sleeps, anything else only reads."""
    global COUNT
    COUNT += 1
    tmpdir = os.environ.get("TMPDIR") or "/tmp"
    if not os.path.isdir(tmpdir):
        return {"count": COUNT, "tmpdir": os.environ.get("TMPDIR"), "tmpdirExists": False}
    path = os.path.join(tmpdir, MARKER)
    op = event.get("op")
    if op == "write":
        with open(path, "w") as f:
            f.write(str(COUNT))
    elif op == "sleep":
        time.sleep(event["s"])
    try:
        with open(path) as f:
            marker = f.read()
    except FileNotFoundError:
        marker = None
    return {"count": COUNT, "marker": marker, "tmpdir": os.environ.get("TMPDIR"), "tmpdirExists": True,
            "pid": os.getpid()}


def limits(event, context):
    tmpdir = os.environ.get("TMPDIR") or "/tmp"
    result = {"nofile": list(resource.getrlimit(resource.RLIMIT_NOFILE)), "pid": os.getpid(), "tmpdir": tmpdir,
              "tmpdirExists": os.path.isdir(tmpdir)}
    if result["tmpdirExists"]:
        st = os.statvfs(tmpdir)
        result.update(tmpIsMount=os.path.ismount(tmpdir), tmpSizeBytes=st.f_blocks * st.f_frsize)
    return result


def fill_tmp(event, context):
    """Writes {"mb": N} MB of data to the file {"name": ...} in the environment's temporary
    directory and reports where that directory is and whether it is its own mount."""
    tmpdir = os.environ.get("TMPDIR") or "/tmp"
    block = b"\x01" * (1 << 20)
    written = 0
    try:
        with open(os.path.join(tmpdir, event.get("name", "fill")), "wb") as f:
            for _ in range(event["mb"]):
                f.write(block)
                written += 1
        error = None
    except OSError as e:
        error = e.strerror
    return {"tmpdir": tmpdir, "tmpIsMount": os.path.ismount(tmpdir), "writtenMb": written, "error": error,
            "uid": os.getuid()}
