#!/bin/sh
# AWS_LAMBDA_EXEC_WRAPPER of tests/e2e/test_runtimes.py: records the command line it was given
# (the runtime's), sets a variable, and runs the runtime as Lambda's wrapper scripts do.
WRAPPER_SAW=$(printf '%s\n' "$@")
export WRAPPER_SAW
export WRAPPED=yes
exec "$@"
