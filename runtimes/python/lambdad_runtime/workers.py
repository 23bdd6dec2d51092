"""Lambda Managed Instances (lambda-spec §11, docs/decisions/028): with AWS_LAMBDA_MAX_CONCURRENCY
set, one environment serves that many invokes at once, and Lambda's Python runtime serves them
with one process per slot. This process forks the workers once the runtime is set up (the
handler is not imported yet: each worker does its own init, as on Lambda) and from then on only
watches them; each worker runs the usual init and /next loop on its own connection.

What a worker does differently from the classic runtime is what Lambda's client does in this mode:
a 403 on /init/error means another worker reported the init error first, and is ignored; a
response or error post the Runtime API refuses (the invoke timed out, 410) is logged and the
worker goes on to its next invoke rather than exiting.

A worker that exits ends the runtime: the others are killed and this process ends as the worker
did (its exit code, or the same signal), so that lambdad sees the environment fail and fails
every invoke in flight there (decision 028, point 3). Lambda's own client instead waits for every
worker and lets the rest go on serving (runtimes/README.md). SIGTERM and SIGINT are passed on to
the workers; after that, all of them may finish before this process exits.

Imported only in this mode (before sys.path is the function's), so the classic runtime's start
does not pay for it.
"""
import os
import signal
import sys

try:
    import ctypes
except ImportError:  # an interpreter built without it: workers cannot follow this process's end
    ctypes = None
try:
    import resource
except ImportError:
    resource = None

from .runtime_api_client import RuntimeApiClient, RuntimeApiError

_PR_SET_PDEATHSIG = 1
_FORWARDED = (signal.SIGTERM, signal.SIGINT)


class WorkerClient(RuntimeApiClient):
    """The Runtime API client of one worker."""

    def post_init_error(self, error, error_type=None):
        try:
            super().post_init_error(error, error_type)
        except RuntimeApiError as e:
            if e.status != 403:  # 403: another worker's init error was taken first
                raise

    def post_response(self, request_id, body, content_type):
        try:
            super().post_response(request_id, body, content_type)
        except RuntimeApiError as e:
            _refused(e)

    def post_error(self, request_id, error, xray_cause=None):
        try:
            super().post_error(request_id, error, xray_cause)
        except RuntimeApiError as e:
            _refused(e)


def _refused(error):
    sys.stderr.write("lambdad python runtime: {} (the worker goes on)\n".format(error))


def worker_count(value):
    """AWS_LAMBDA_MAX_CONCURRENCY as a number of workers; exits 1 when it is not one."""
    try:
        count = int(value)
    except ValueError:
        count = 0
    if count < 1:
        sys.stderr.write("lambdad python runtime: AWS_LAMBDA_MAX_CONCURRENCY must be an integer >= 1, "
                         "not {!r}\n".format(value))
        sys.exit(1)
    return count


def _die_with_parent():
    """A worker must not outlive this process (one killed alone would leave them polling)."""
    if ctypes is None:
        return
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def fork_workers(count, address):
    """Returns a WorkerClient in each of `count` forked workers; never returns in this process."""
    sys.stdout.flush()
    sys.stderr.flush()
    parent = os.getpid()
    workers = []
    for _ in range(count):
        try:
            pid = os.fork()
        except OSError as e:
            sys.stderr.write("lambdad python runtime: cannot start a worker: {}\n".format(e))
            _kill(workers, signal.SIGKILL)
            os._exit(1)
        if pid == 0:
            _die_with_parent()
            if os.getppid() != parent:
                os._exit(1)  # the runtime ended before this worker could follow it
            return WorkerClient(address)
        workers.append(pid)
    _supervise(workers)


def _kill(pids, signum):
    for pid in list(pids):
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass


def _supervise(workers):
    live = set(workers)
    stopping = []

    def pass_on(signum, _frame):
        stopping.append(signum)
        _kill(live, signum)

    for signum in _FORWARDED:
        signal.signal(signum, pass_on)
    first = None
    while live:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        live.discard(pid)
        if first is None:
            first = status
            if not stopping:
                _kill(live, signal.SIGKILL)  # the environment has failed: no invoke goes on in it
    _exit_as(first if first is not None else 0)


def _exit_as(status):
    """Ends this process as the first worker ended: the same exit code, or the same signal."""
    if os.WIFSIGNALED(status):
        signum = os.WTERMSIG(status)
        if resource is not None:
            try:
                resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # the worker dumped core if any should
            except (ValueError, OSError):
                pass
        try:
            signal.signal(signum, signal.SIG_DFL)
        except (OSError, ValueError):
            pass  # SIGKILL's cannot be changed, nor needs to be
        os.kill(os.getpid(), signum)
        os._exit(128 + signum)  # a signal whose default is not to end a process
    os._exit(os.waitstatus_to_exitcode(status))
