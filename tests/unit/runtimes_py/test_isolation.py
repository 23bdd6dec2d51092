"""Unit tests of what a function can import (runtimes/python/lambdad_runtime/isolation.py): the
host's SDK and only it, and the SDK's own dependencies kept from the function. Each case runs in a
fresh `python3 -S` over a fake host site directory, so the finders and the import hook installed
there cannot leak into this process."""
import os
import pathlib
import subprocess
import sys
import tempfile
import textwrap
import unittest

REPO = pathlib.Path(__file__).resolve().parents[3]

PRELUDE = textwrap.dedent("""\
    import sys
    sys.path.insert(0, {runtime!r})
    from lambdad_runtime import isolation
    sys.path[:] = [{task!r}] + [p for p in sys.path if p != {runtime!r}]
    sys.meta_path.append(isolation.SdkFinder([{site!r}]))
    isolation.SdkDependencies([{site!r}]).install()
    import importlib

    def attempt(how, name):
        try:
            m = __import__(name, globals()) if how == "statement" else importlib.import_module(name)
            m = sys.modules.get(name, m)
            return getattr(m, "WHOSE", "?")
        except ModuleNotFoundError as e:
            return "missing: " + str(e)
    """)


class SdkDependenciesTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)
        root = pathlib.Path(self.dir.name)
        self.site = root / "site"
        self.task = root / "task"
        # A host SDK package that imports a dependency Lambda's would vendor, as Debian's botocore does.
        self.write(self.site / "botocore" / "__init__.py",
                   "import requests\nfrom requests import adapters\nBASE = requests.exceptions.Base\nWHOSE = 'host'\n")
        self.write(self.site / "requests" / "__init__.py",
                   "from . import exceptions\nimport idna\nWHOSE = 'host'\n")
        self.write(self.site / "requests" / "exceptions.py", "class Base(Exception):\n    pass\n")
        self.write(self.site / "requests" / "adapters.py", "from .exceptions import Base\n")
        self.write(self.site / "idna" / "__init__.py", "WHOSE = 'host'\n")
        self.write(self.site / "yaml" / "__init__.py", "WHOSE = 'host'\n")
        self.task.mkdir()

    @staticmethod
    def write(path, text):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)

    def run_py(self, body):
        code = PRELUDE.format(runtime=str(REPO / "runtimes" / "python"), task=str(self.task),
                              site=str(self.site)) + textwrap.dedent(body)
        r = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True, timeout=30,
                           env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout.split()

    def test_only_the_sdk_is_found_on_the_host(self):
        out = self.run_py("""\
            print(attempt('statement', 'botocore'))
            print(attempt('importlib', 'yaml').replace(' ', '_'))
            """)
        self.assertEqual(out, ["host", "missing:_No_module_named_'yaml'"])

    def test_the_sdks_dependency_stays_out_of_the_functions_reach(self):
        out = self.run_py("""\
            print(attempt('statement', 'requests').split()[0])
            import botocore
            for how in ('statement', 'importlib'):
                for name in ('requests', 'requests.exceptions', 'requests.adapters', 'idna'):
                    print(attempt(how, name).split()[0])
            """)
        self.assertEqual(out, ["missing:"] * 9)

    def test_the_sdk_reuses_what_it_loaded(self):
        out = self.run_py("""\
            import botocore
            ns = {'__name__': 'botocore.later', 'first': botocore.BASE}
            exec('import requests.exceptions as e\\nprint(e.Base is first)', ns)
            print('requests' in sys.modules)
            """)
        self.assertEqual(out, ["True", "False"])

    def test_a_function_shipping_its_own_copy_gets_it_and_the_sdk_keeps_the_hosts(self):
        self.write(self.task / "requests" / "__init__.py", "WHOSE = 'own'\n")
        out = self.run_py("""\
            import botocore
            print(attempt('statement', 'requests'))
            ns = {'__name__': 'botocore.later'}
            exec('import requests\\nprint(requests.WHOSE)', ns)
            print(attempt('importlib', 'requests'))
            """)
        self.assertEqual(out, ["own", "host", "own"])

    def test_the_function_importing_its_copy_first_does_not_change_the_sdks(self):
        self.write(self.task / "requests" / "__init__.py", "WHOSE = 'own'\n")
        out = self.run_py("""\
            print(attempt('statement', 'requests'))
            import botocore
            print(botocore.requests.WHOSE, attempt('statement', 'requests'))
            """)
        self.assertEqual(out, ["own", "host", "own"])


if __name__ == "__main__":
    unittest.main()
