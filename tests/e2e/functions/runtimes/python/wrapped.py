"""Started through AWS_LAMBDA_EXEC_WRAPPER (wrapper.sh): returns what the wrapper saw and set."""
import os
import sys


def handler(event, context):
    return {"saw": os.environ.get("WRAPPER_SAW", "").split("\n"), "wrapped": os.environ.get("WRAPPED"),
            "argv": sys.argv}
