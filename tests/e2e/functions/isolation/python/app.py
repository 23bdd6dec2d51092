"""What a Python function sees of its environment (tests/e2e/test_isolation.py)."""
import importlib
import os
import sys


def where(event, context):
    return {
        "cwd": os.getcwd(),
        "file": __file__,
        "pwd": os.environ.get("PWD"),
        "task_root": os.environ.get("LAMBDA_TASK_ROOT"),
        "runtime_dir": os.environ.get("LAMBDA_RUNTIME_DIR"),
        "tmpdir": os.environ.get("TMPDIR"),
        "sys_path": sys.path,
        "exists": {p: os.path.exists(p) for p in event.get("paths", [])},
        "task_writable": os.access("/var/task", os.W_OK) and _can_write(os.environ["LAMBDA_TASK_ROOT"]),
        "uid": os.getuid(),
        "cap_eff": _status_field("CapEff"),
        "tmp_writable": _can_write("/tmp"),
        "has_exit": callable(getattr(__builtins__, "exit", None)) if not isinstance(__builtins__, dict)
        else callable(__builtins__.get("exit")),
    }


def _status_field(name):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(name + ":"):
                return line.split()[1]
    return None


def _can_write(directory):
    try:
        with open(os.path.join(directory, ".probe"), "w") as f:
            f.write("x")
        os.unlink(os.path.join(directory, ".probe"))
        return True
    except OSError:
        return False


def imports(event, context):
    """Imports event["module"] with an import statement ("how": "statement") or importlib."""
    name = event["module"]
    if event.get("how") == "statement":
        __import__(name, globals())
        module = sys.modules[name]
    else:
        module = importlib.import_module(name)
    return {"module": name, "file": getattr(module, "__file__", None)}


def fails(event, context):
    raise ValueError("from the task root")
