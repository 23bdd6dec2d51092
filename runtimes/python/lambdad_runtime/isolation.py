"""What a function can import: Lambda's sys.path, and of the host's packages only the AWS SDK.

lambdad starts Python with -S, so the host's site-packages/dist-packages, the user site and .pth
files are not on sys.path (docs/decisions/014). Lambda's Python runtimes ship the AWS SDK for
Python; the host's copy of it (and of the packages it needs) is found after everything else, by
top-level name, so `import boto3` works as on Lambda and `import requests` does not.

A distribution's botocore may import packages Lambda's vendors inside botocore (Debian's imports
`requests`). Those are loaded for the SDK's imports only and then kept out of sys.modules (the
SDK's modules hold their references), so a function's own `import requests` still fails, or finds
the function's own copy, as on Lambda.
"""
import builtins
import importlib.machinery
import os
import sys

# The packages Lambda's Python runtimes bundle: boto3 and what it imports.
SDK_PACKAGES = frozenset(
    ["boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six", "awscrt"])
# What a distribution's unbundled botocore imports in place of the copies Lambda's vendors
# (Debian's imports `requests`): found only for imports made by the SDK's own modules.
SDK_DEPENDENCIES = frozenset(["requests", "charset_normalizer", "chardet", "idna", "certifi"])


def _importer():
    """The top-level package of the module whose import statement is running, or ''."""
    frame = sys._getframe(2)
    while frame is not None:
        name = frame.f_code.co_filename
        if not name.startswith("<frozen importlib") and name != __file__:
            return (frame.f_globals.get("__name__") or "").partition(".")[0]
        frame = frame.f_back
    return ""


def prepare_sys_path(runtime_dir, task_root):
    """Lambda's order: the code, PYTHONPATH (the layers), the runtime, the standard library."""
    runtime_dir = os.path.abspath(runtime_dir)
    extra = [os.path.abspath(p) for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    rest = [p for p in sys.path
            if os.path.abspath(p or os.curdir) not in (runtime_dir, task_root) and os.path.abspath(p) not in extra]
    sys.path[:] = [task_root] + extra + [runtime_dir] + rest


def _host_site_dirs():
    import site  # under -S importing site does not run it; it only tells where the sites are
    dirs = list(site.getsitepackages())
    # Debian's interpreter keeps its packages in dist-packages, which getsitepackages names too;
    # the generic location is added in case a build leaves it out.
    dirs.append(os.path.join(sys.prefix, "lib", "python3", "dist-packages"))
    return [d for d in dict.fromkeys(dirs) if os.path.isdir(d)]


class SdkFinder:
    """Finds the SDK's top-level packages in the host's site directories, and nothing else."""

    def __init__(self, dirs):
        self._dirs = dirs

    def find_spec(self, fullname, path=None, target=None):
        if path is not None:
            return None
        if fullname not in SDK_PACKAGES and not (
                fullname in SDK_DEPENDENCIES and _importer() in SDK_PACKAGES | SDK_DEPENDENCIES):
            return None
        return importlib.machinery.PathFinder.find_spec(fullname, self._dirs)

    def invalidate_caches(self):
        pass


class SdkDependencies:
    """The host's copies of SDK_DEPENDENCIES, in sys.modules only while an SDK module imports."""

    def __init__(self, dirs):
        self._site_dirs = list(dirs)
        self._dirs = tuple(os.path.join(d, "") for d in dirs)
        self._stashed = {}
        self._private = {}  # name -> the host's module, while out of sys.modules
        self._depth = 0
        self._import = builtins.__import__

    def install(self):
        builtins.__import__ = self.import_

    def _is_hosts(self, module):
        origin = getattr(getattr(module, "__spec__", None), "origin", None) or ""
        return origin.startswith(self._dirs)

    def import_(self, name, globals=None, locals=None, fromlist=(), level=0):
        target = name if level == 0 else ((globals or {}).get("__package__") or "")
        if target.partition(".")[0] not in SDK_DEPENDENCIES:
            return self._import(name, globals, locals, fromlist, level)
        importer = ((globals or {}).get("__name__") or "").partition(".")[0]
        if importer not in SDK_PACKAGES and importer not in SDK_DEPENDENCIES:
            return self._import(name, globals, locals, fromlist, level)
        return self._import_for_sdk(name, globals, locals, fromlist, level)

    def _import_for_sdk(self, name, globals, locals, fromlist, level):
        modules = sys.modules
        if self._depth == 0:
            # The SDK gets the host's copies, even where the function ships its own (Lambda's
            # botocore would use the copies vendored inside it): the function's are set aside.
            self._stashed = {k: modules.pop(k) for k in [k for k in modules if k.partition(".")[0] in SDK_DEPENDENCIES]}
            modules.update(self._private)
            self._private.clear()
            sys.meta_path.insert(0, self)
        self._depth += 1
        try:
            return self._import(name, globals, locals, fromlist, level)
        finally:
            self._depth -= 1
            if self._depth == 0:
                sys.meta_path.remove(self)
                for key in [k for k in modules if k.partition(".")[0] in SDK_DEPENDENCIES]:
                    if self._is_hosts(modules[key]):
                        self._private[key] = modules.pop(key)
                modules.update(self._stashed)
                self._stashed = {}

    def find_spec(self, fullname, path=None, target=None):
        """First on sys.meta_path while the SDK imports: its dependencies from the host's sites."""
        if path is not None or fullname not in SDK_DEPENDENCIES:
            return None
        return importlib.machinery.PathFinder.find_spec(fullname, self._site_dirs)

    def invalidate_caches(self):
        pass


def install_sdk_finder():
    if not sys.flags.no_site:
        return  # started without -S: the host's site is on sys.path already
    dirs = _host_site_dirs()
    if dirs:
        sys.meta_path.append(SdkFinder(dirs))
        SdkDependencies(dirs).install()


def add_site_builtins():
    """exit(), quit(), help(), copyright() ...: what site would have added under -S."""
    if not sys.flags.no_site:
        return
    import site
    for name in ("setquit", "setcopyright", "sethelper"):
        fn = getattr(site, name, None)
        if fn is not None:
            fn()
