"""Unit tests of SnapStart's sequence in lambdad's Python runtime (lambdad_runtime.snapshot and
Runtime.snap_start), in place (no snapshot socket): the hooks' order, and what a failing hook
posts and how the runtime exits, as Lambda's Python runtime does (lambda-spec §14)."""
import pathlib
import sys
import unittest

REPO = pathlib.Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "runtimes" / "python"))

import snapshot_restore_py  # noqa: E402
from lambdad_runtime import snapshot  # noqa: E402
from lambdad_runtime.runtime import Runtime  # noqa: E402


class FakeClient:
    def __init__(self, calls):
        self.calls = calls

    def restore_next(self):
        self.calls.append("restore_next")

    def post_init_error(self, error, error_type=None):
        self.calls.append(("init_error", error_type, error["errorType"], error["errorMessage"]))

    def post_restore_error(self, error, error_type):
        self.calls.append(("restore_error", error_type, error["errorType"], error["errorMessage"]))


class FakeSink:
    def write_error(self, record):
        pass


class SnapStartSequenceTest(unittest.TestCase):
    def setUp(self):
        snapshot_restore_py._before_snapshot.clear()
        snapshot_restore_py._after_restore.clear()
        self.calls = []
        self.runtime = Runtime(FakeClient(self.calls), FakeSink(), None, False)

    def hook(self, name, fail=False):
        def run(*args, **kwargs):
            self.calls.append((name, args, kwargs))
            if fail:
                raise ValueError(name + " failed")
        return run

    def test_before_hooks_run_in_reverse_then_restore_next_then_after_hooks_in_order(self):
        snapshot_restore_py.register_before_snapshot(self.hook("b1"))
        decorated = snapshot_restore_py.register_before_snapshot(self.hook("b2"), 1, k="v")
        snapshot_restore_py.register_after_restore(self.hook("a1"))
        snapshot_restore_py.register_after_restore(self.hook("a2"), 2)
        self.assertTrue(callable(decorated), "usable as a decorator")
        self.runtime.snap_start(None)
        self.assertEqual(self.calls, [("b2", (1,), {"k": "v"}), ("b1", (), {}), "restore_next", ("a1", (), {}),
                                      ("a2", (2,), {})])

    def test_a_failing_before_hook_is_an_init_error_and_exit_64(self):
        snapshot_restore_py.register_before_snapshot(self.hook("b1", fail=True))
        with self.assertRaises(SystemExit) as cm:
            self.runtime.snap_start(None)
        self.assertEqual(cm.exception.code, 64)
        self.assertEqual(self.calls[-1], ("init_error", "Runtime.BeforeSnapshotError", "ValueError", "b1 failed"))
        self.assertNotIn("restore_next", self.calls)

    def test_a_failing_after_hook_is_a_restore_error_and_exit_65(self):
        snapshot_restore_py.register_after_restore(self.hook("a1", fail=True))
        snapshot_restore_py.register_after_restore(self.hook("a2"))
        with self.assertRaises(SystemExit) as cm:
            self.runtime.snap_start(None)
        self.assertEqual(cm.exception.code, 65)
        self.assertEqual(self.calls[-1], ("restore_error", "Runtime.AfterRestoreError", "ValueError", "a1 failed"))
        self.assertNotIn(("a2", (), {}), self.calls, "the hooks after a failing one do not run")

    def test_no_snapshot_where_lambdad_offers_none(self):
        self.assertFalse(snapshot.become_snapshot("lambdad-test-no-such-socket"))


class ForkFidelityTest(unittest.TestCase):
    """What makes a forked copy start as a restored snapshot does on Lambda."""

    def test_at_fork_hooks_are_hidden_from_a_copy_and_back_afterwards(self):
        import os
        import random

        ran = []
        os.register_at_fork(before=lambda: ran.append("before"), after_in_parent=lambda: ran.append("parent"),
                            after_in_child=lambda: ran.append("child"))
        lists = snapshot._fork_hook_lists()
        self.assertIsNotNone(lists, "the interpreter's three lists of at-fork hooks are found")
        random.seed(11)
        expected = random.Random(11).random()
        read, write = os.pipe()
        with snapshot._ForkHooksHidden(lists):
            pid = os.fork()
        if pid == 0:  # random's own reseeding hook did not run either
            os.write(write, repr((ran, random.random() == expected)).encode())
            os._exit(0)
        os.close(write)
        os.waitpid(pid, 0)
        self.assertEqual(os.read(read, 4096).decode(), "([], True)")
        os.close(read)
        self.assertEqual(ran, [], "none ran in the parent")
        pid = os.fork()  # a fork of the function's own, later
        if pid == 0:
            os._exit(0 if ran == ["before", "child"] else 1)
        _, status = os.waitpid(pid, 0)
        self.assertEqual(os.waitstatus_to_exitcode(status), 0)
        self.assertEqual(ran, ["before", "parent"])

    def test_an_init_that_left_threads_running_is_restored_in_place(self):
        import threading

        lists = snapshot._fork_hook_lists()
        self.assertIsNone(snapshot._in_place_reason(lists, threads=1))
        before = snapshot._threads()  # other tests of this process may have left some
        stop = threading.Event()
        thread = threading.Thread(target=stop.wait)
        thread.start()
        try:
            self.assertEqual(snapshot._threads(), before + 1, "counted from /proc/self/task")
            self.assertEqual(snapshot._in_place_reason(lists),
                             "its init left {} threads running, and a copy forked from it would have only one"
                             .format(before + 1))
        finally:
            stop.set()
            thread.join()
        self.assertRegex(snapshot._in_place_reason(None, threads=1), "at-fork hooks cannot be hidden")


if __name__ == "__main__":
    unittest.main()
