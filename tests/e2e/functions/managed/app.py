import logging
import os
import time


def handler(event, context):
    """Sleeps as asked and says who ran it: the worker's pid and the environment's (its parent)."""
    started = time.time()
    if "log" in event:
        logging.getLogger().info(event["log"])
    time.sleep(event.get("sleep", 0))
    return {
        "id": event.get("id"),
        "requestId": context.aws_request_id,
        "pid": os.getpid(),
        "environment": os.getppid(),
        "start": started,
        "end": time.time(),
        "maxConcurrency": os.environ.get("AWS_LAMBDA_MAX_CONCURRENCY"),
        "initializationType": os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE"),
        "logFormat": os.environ.get("AWS_LAMBDA_LOG_FORMAT"),
    }
