"""lambdad's Python runtime client: the process lambdad starts for python3.x functions.

lambdad runs `<python3> <repo>/runtimes/python/bootstrap.py` with the code directory as cwd and
Lambda's environment (AWS_LAMBDA_RUNTIME_API, _HANDLER, LAMBDA_TASK_ROOT, ...). Standard library
only; Python >= 3.9.
"""
import os
import sys

# Python put this file's directory first on sys.path; load our package from it, then hand
# sys.path over to the function (lambdad_runtime.runtime puts LAMBDA_TASK_ROOT first).
_RUNTIME_DIR = os.path.dirname(os.path.abspath(__file__))
if sys.path[0] != _RUNTIME_DIR:
    sys.path.insert(0, _RUNTIME_DIR)

from lambdad_runtime.runtime import main  # noqa: E402

# Lambda's code directory is read-only, so a function's modules are never cached as bytecode next
# to its code; nor are they here. A __pycache__ written by one cold start could otherwise be
# trusted after an edit that kept the file's size within the same second (serve --watch).
sys.dont_write_bytecode = True

if __name__ == "__main__":
    main(_RUNTIME_DIR)
