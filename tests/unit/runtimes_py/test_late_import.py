"""Unit tests of the modules the Python runtime imports late (runtimes/python/lambdad_runtime/
late_import.py): logging's hook runs once as logging is imported, and a function's modules named
like the standard library's the runtime imported at start do not stand in for them. Each case
runs in a fresh `python3 -S`, so the finders installed there cannot leak into this process."""
import json
import pathlib
import subprocess
import sys
import tempfile
import textwrap
import unittest

REPO = pathlib.Path(__file__).resolve().parents[3]

PRELUDE = textwrap.dedent("""\
    import json as _json_for_the_test, sys
    sys.path[0] = {runtime!r}  # where `python3 -S -c` put the working directory, the runtime puts its own
    from lambdad_runtime import late_import
    late_import.start()
    calls = []
    late_import.after_import("logging", lambda: calls.append(sorted(k for k in sys.modules if k == "logging")))
    sys.path.insert(0, {task!r})  # the function's directory, first, as the runtime puts it
    def whose(name):
        return getattr(sys.modules[name], "WHOSE", "stdlib")
    """)


class LateImportTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)
        self.task = pathlib.Path(self.dir.name)
        # Modules of the function named like the standard library's: token and string were
        # imported at start (by logging's traceback), secrets never was.
        for name in ("logging", "token", "string", "secrets"):
            (self.task / f"{name}.py").write_text("WHOSE = 'function'\n")

    def run_py(self, body):
        code = PRELUDE.format(runtime=str(REPO / "runtimes" / "python"), task=str(self.task)) + textwrap.dedent(body)
        r = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True, timeout=30,
                           cwd=self.dir.name)
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)

    def test_logging_hook_runs_once_after_logging_and_before_the_import_returns(self):
        got = self.run_py("""\
            before = list(calls)
            import logging
            after_first = list(calls)
            import logging.handlers
            print(_json_for_the_test.dumps([before, after_first, list(calls), whose("logging"),
                                           logging.getLogger().name]))
            """)
        self.assertEqual(got, [[], [["logging"]], [["logging"]], "stdlib", "root"])

    def test_modules_imported_at_start_before_stay_the_standard_librarys(self):
        got = self.run_py("""\
            import token, string, secrets
            import logging  # imports traceback -> linecache -> tokenize -> token
            import tokenize
            print(_json_for_the_test.dumps([whose("token"), whose("string"), whose("secrets"),
                                           tokenize.tok_name is sys.modules["token"].tok_name]))
            """)
        self.assertEqual(got, ["stdlib", "stdlib", "function", True])


if __name__ == "__main__":
    unittest.main()
