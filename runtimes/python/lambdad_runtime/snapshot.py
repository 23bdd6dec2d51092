"""SnapStart (lambda-spec §14; docs/decisions/023): the sequence after a successful init when
AWS_LAMBDA_INITIALIZATION_TYPE is snap-start.

Before-snapshot hooks run (reverse order); a failure is /init/error Runtime.BeforeSnapshotError and
exit 64. Where lambdad offered a snapshot socket, this process then becomes the snapshot: it says
it is ready and, for each restore the daemon asks for, forks a copy of itself with
clone(CLONE_PARENT) (the daemon is the copy's parent, as of every runtime) into the new
environment's cgroups and mount namespace, with its output and Runtime API. Only copies return
from become_snapshot(); the snapshot itself exits when the daemon closes the socket. Then (in the
copy, or in place where no snapshot could be made) /restore/next, the after-restore hooks
(registration order; a failure is /restore/error Runtime.AfterRestoreError and exit 65), and the
usual invoke loop.

A copy must start as a restored snapshot does on Lambda, with the init's memory and nothing run in
between: the hooks libraries registered with os.register_at_fork are hidden while it is forked
(Lambda runs none at a restore; `random` would reseed, a pool would drop its connections), and an
init that left threads running is restored in place instead, since a forked copy would have none
of them.
"""
import os
import sys

BEFORE_SNAPSHOT_ERROR = "Runtime.BeforeSnapshotError"
AFTER_RESTORE_ERROR = "Runtime.AfterRestoreError"

_CLONE_NEWNS = 0x00020000
_CLONE_PARENT = 0x00008000
_SIGCHLD = 17
_SIGKILL = 9
_PR_SET_PDEATHSIG = 1
# clone(flags, newsp, parent_tid, ...): the same order for the arguments used here on both.
_SYS_CLONE = {"x86_64": 56, "aarch64": 220}


def _hooks(kind):
    module = sys.modules.get("snapshot_restore_py")  # only a function that registered hooks has it
    if module is None:
        return []
    return module.get_before_snapshot() if kind == "before" else module.get_after_restore()


def run_before_snapshot():
    for func, args, kwargs in reversed(_hooks("before")):
        func(*args, **kwargs)


def run_after_restore():
    for func, args, kwargs in _hooks("after"):
        func(*args, **kwargs)


def _fail(out_fd, text):
    try:
        os.write(out_fd, ("lambdad: restore from the snapshot failed: " + text + "\n").encode())
    finally:
        os._exit(127)


def _enter(request, fds, libc):
    """In the copy: takes over the new environment's descriptors and waits for the daemon's go."""
    output, go = fds[0], fds[1]
    rest = fds[2:]
    os.dup2(output, 1)
    os.dup2(output, 2)
    os.close(output)
    environment = request.get("environment", {})
    try:
        os.setpgid(0, 0)
        # The snapshot's /tmp, still reachable through a descriptor once this copy is in its own.
        snapshot_tmp = os.open(os.environ.get("TMPDIR") or "/tmp", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        mount_ns = rest.pop(0) if request.get("mountNamespace") else -1
        for fd in rest[:request.get("cgroups", 0)]:
            os.write(fd, b"0")  # this process joins the cgroup
            os.close(fd)
        if mount_ns >= 0:
            if libc.setns(mount_ns, _CLONE_NEWNS) != 0:
                raise OSError(_errno(), "setns: " + os.strerror(_errno()))
            os.close(mount_ns)
        os.chdir(request.get("cwd") or "/")
        libc.prctl(_PR_SET_PDEATHSIG, _SIGKILL, 0, 0, 0)
        if os.getppid() != request.get("ppid"):
            os._exit(1)  # the daemon is gone already
        _copy_tmp(snapshot_tmp, environment.get("TMPDIR") or "/tmp")
    except OSError as e:
        _fail(1, str(e))
    if request.get("ahead"):
        _populate(libc)
    if os.read(go, 1) != b"\x01":
        os._exit(0)  # the daemon gave the environment up
    os.close(go)
    for key, value in environment.items():
        os.environ[key] = value


def _copy_tmp(snapshot_tmp, own_tmp):
    """What the init wrote to /tmp is part of Lambda's snapshot: each copy gets it in its own."""
    try:
        theirs, ours = os.fstat(snapshot_tmp), os.stat(own_tmp)
        if (theirs.st_dev, theirs.st_ino) == (ours.st_dev, ours.st_ino) or not os.listdir(snapshot_tmp):
            return  # the same directory (no /tmp of its own here), or nothing to copy
        import shutil

        # The descriptor's own path reaches it from any mount namespace.
        shutil.copytree("/proc/self/fd/{}".format(snapshot_tmp), own_tmp, symlinks=True, dirs_exist_ok=True)
    finally:
        os.close(snapshot_tmp)


_MADV_POPULATE_WRITE = 23  # Linux 5.14


def _populate(libc):
    """Copies now, in this copy's own cgroup, while it is made ahead of its cold start, the
    snapshot's pages it would otherwise copy one fault at a time in its first invoke: every private
    writable mapping, written in place by the kernel (a kernel without MADV_POPULATE_WRITE says
    EINVAL, and the pages are copied on demand as before)."""
    import ctypes

    madvise = libc.madvise
    madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    try:
        with open("/proc/self/maps") as maps:
            for line in maps:
                fields = line.split()
                if len(fields) < 2 or fields[1] != "rw-p" or (len(fields) > 5 and fields[5].startswith("[v")):
                    continue  # not private and writable, or the kernel's [vvar]/[vdso]
                start, end = (int(x, 16) for x in fields[0].split("-"))
                if madvise(start, end - start, _MADV_POPULATE_WRITE) != 0 and ctypes.get_errno() == 22:
                    return
    except OSError:
        pass


def _errno():
    import ctypes

    return ctypes.get_errno()


def _mark():
    """Registered for every kind of at-fork hook, so that the interpreter's lists of them can be found."""


os.register_at_fork(before=_mark, after_in_parent=_mark, after_in_child=_mark)


def _fork_hook_lists():
    """The interpreter's lists of os.register_at_fork hooks (before, after in the parent, after in
    the child), which hold _mark; None where they cannot be found."""
    import gc

    lists = [r for r in gc.get_referrers(_mark) if type(r) is list and any(f is _mark for f in r)]
    return lists if len(lists) == 3 else None


class _ForkHooksHidden:
    """While entered, the at-fork hooks are hidden, except threading's own bookkeeping of the
    forking thread (an interpreter's, invisible to the function); put back on exit, in the copy as
    in the snapshot, for a fork the function itself makes later."""

    def __init__(self, lists):
        self._lists = lists
        self._saved = []

    def __enter__(self):
        threading = sys.modules.get("threading")
        keep = getattr(threading, "_after_fork", None)
        self._saved = [list(hooks) for hooks in self._lists]
        for hooks in self._lists:
            hooks[:] = [f for f in hooks if keep is not None and f is keep]
        return self

    def __exit__(self, *exc):
        for hooks, saved in zip(self._lists, self._saved):
            hooks[:] = saved
        return False


def _threads():
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return 1


def _in_place_reason(hook_lists, threads=None):
    """Why this runtime cannot become a snapshot that copies faithfully, or None."""
    threads = _threads() if threads is None else threads
    if threads > 1:
        return "its init left {} threads running, and a copy forked from it would have only one".format(threads)
    if hook_lists is None:
        return "the interpreter's at-fork hooks cannot be hidden from a copy"
    return None


def become_snapshot(socket_name):
    """True in each restored copy; False when no snapshot can be made here (restore in place)."""
    import ctypes
    import json
    import platform
    import socket

    number = _SYS_CLONE.get(platform.machine())
    if number is None:
        return False
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        sock.connect("\0" + socket_name)
    except OSError:
        sock.close()
        return False
    hook_lists = _fork_hook_lists()
    why = _in_place_reason(hook_lists)
    if why is not None:
        # The daemon logs why and restores this function in place from now on.
        try:
            sock.send(json.dumps({"ready": False, "inPlace": why}).encode())
        except OSError:
            pass
        sock.close()
        return False
    hidden = _ForkHooksHidden(hook_lists)
    try:
        sock.send(b'{"ready":true}')
    except OSError:
        sock.close()
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    clone = ctypes.PyDLL(None, use_errno=True).syscall  # holds the GIL across the fork
    clone.restype = ctypes.c_long
    clone.argtypes = [ctypes.c_long, ctypes.c_ulong, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p,
                      ctypes.c_void_p]  # number, flags, stack, parent tid, child tid, tls
    python = ctypes.pythonapi
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(sock, 65536, 16)
        except InterruptedError:
            continue
        if not message:
            os._exit(0)  # the daemon dropped the snapshot
        try:
            request = json.loads(message)
        except ValueError:
            request = {}
        if len(fds) < 2:
            for fd in fds:
                os.close(fd)
            sock.send(b'{"error":"a restore without its descriptors"}')
            continue
        sys.stdout.flush()
        sys.stderr.flush()
        with hidden:
            python.PyOS_BeforeFork()
            pid = clone(number, _CLONE_PARENT | _SIGCHLD, None, None, None, None)
            if pid == 0:
                python.PyOS_AfterFork_Child()
            else:
                err = ctypes.get_errno()
                python.PyOS_AfterFork_Parent()
        if pid == 0:
            sock.close()
            _enter(request, fds, libc)
            return True
        for fd in fds:
            os.close(fd)
        if pid < 0:
            sock.send(json.dumps({"error": "clone: " + os.strerror(err)}).encode())
        else:
            sock.send(json.dumps({"pid": pid}).encode())
