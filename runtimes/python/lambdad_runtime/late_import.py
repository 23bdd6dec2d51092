"""Standard-library modules the runtime no longer imports at start, and what a function sees of
them all the same.

A cold start that imported json, logging (with traceback, tokenize, textwrap, threading, string,
...), socket, decimal and datetime up front spent most of its time on modules a function may
never use. The runtime now imports them when they are needed: logging as the function first
imports it (log_setup), traceback for an error, json's C accelerator alone for events and results
(marshaller). A module imported at start was also one a function could not stand in for: its own
`types.py` or `token.py` was never `types` or `token`, for itself or for the standard library's
modules that import them, as on Lambda, whose runtime imports these and more first. So these
names (STARTED_WITH: with the built-in and frozen modules, all that those imported) are still
found first on sys.path as it was at start (the runtime's directory, PYTHONPATH, the standard
library), and so is anything logging imports while the runtime's hook loads it.
"""
import _imp
import _thread
import importlib
import importlib.machinery
import sys

# The standard library's top-level modules the runtime imported at start (on Python 3.11) before
# it imported them late.
STARTED_WITH = frozenset([
    "_decimal", "_json", "_weakrefset", "collections", "contextlib", "copyreg", "datetime",
    "decimal", "enum", "functools", "importlib", "ipaddress", "json", "keyword", "linecache",
    "logging", "numbers", "operator", "re", "reprlib", "selectors", "socket", "string", "textwrap",
    "threading", "token", "tokenize", "traceback", "types", "urllib", "warnings", "weakref"])


class _StartPath:
    """First on sys.meta_path: finds the top-level modules of STARTED_WITH, and any while a thread
    is inside `with` (importing one of them), on the path of the start; the other finders find
    the rest."""

    def __init__(self, path):
        self.path = list(path)
        self._local = _thread._local()

    def __enter__(self):
        self._local.depth = getattr(self._local, "depth", 0) + 1

    def __exit__(self, *exc_info):
        self._local.depth -= 1

    def find_spec(self, fullname, path=None, target=None):
        if path is not None or (fullname not in STARTED_WITH and not getattr(self._local, "depth", 0)):
            return None
        if fullname in sys.builtin_module_names or _imp.is_frozen(fullname):
            return None  # the finders after this one find those first anyway
        return importlib.machinery.PathFinder.find_spec(fullname, self.path)

    def invalidate_caches(self):
        pass


class _AfterImport:
    """First on sys.meta_path until its module is imported: runs `action` right after the module's
    code (before the import returns to whoever asked for it), then leaves sys.meta_path."""

    def __init__(self, name, action, start_path):
        self._name = name
        self._action = action
        self.start_path = start_path

    def find_spec(self, fullname, path=None, target=None):
        if fullname != self._name or path is not None:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, self.start_path.path)
        if spec is None or not hasattr(spec.loader, "exec_module"):
            return None
        spec.loader = _RunAfter(spec.loader, self)
        return spec

    def loaded(self):
        if self in sys.meta_path:
            sys.meta_path.remove(self)
            with self.start_path:
                self._action()

    def invalidate_caches(self):
        pass


class _RunAfter:
    """The module's own loader; the hook is told once the module's code has run."""

    def __init__(self, loader, hook):
        self._loader = loader
        self._hook = hook

    def __getattr__(self, name):
        return getattr(self._loader, name)

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        module.__loader__ = module.__spec__.loader = self._loader  # as if imported without the hook
        with self._hook.start_path:  # what the module imports, as at start too
            self._loader.exec_module(module)
        self._hook.loaded()


_start_path = None


def start():
    """Called at start, before sys.path is the function's: remembers it."""
    global _start_path
    _start_path = _StartPath(sys.path)
    sys.meta_path.insert(0, _start_path)


def after_import(name, action):
    """Runs `action` now if module `name` is imported, else right after its first import."""
    if name in sys.modules or _start_path is None:
        action()
    else:
        sys.meta_path.insert(0, _AfterImport(name, action, _start_path))
