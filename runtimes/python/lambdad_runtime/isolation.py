"""What a function can import: Lambda's sys.path, and of the host's packages only the AWS SDK.

lambdad starts Python with -S, so the host's site-packages/dist-packages, the user site and .pth
files are not on sys.path (docs/decisions/014). Lambda's Python runtimes ship the AWS SDK for
Python; the host's copy of it (and of the packages it needs) is found after everything else, by
top-level name, so `import boto3` works as on Lambda and `import requests` does not.
"""
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


def install_sdk_finder():
    if not sys.flags.no_site:
        return  # started without -S: the host's site is on sys.path already
    dirs = _host_site_dirs()
    if dirs:
        sys.meta_path.append(SdkFinder(dirs))


def add_site_builtins():
    """exit(), quit(), help(), copyright() ...: what site would have added under -S."""
    if not sys.flags.no_site:
        return
    import site
    for name in ("setquit", "setcopyright", "sethelper"):
        fn = getattr(site, name, None)
        if fn is not None:
            fn()
