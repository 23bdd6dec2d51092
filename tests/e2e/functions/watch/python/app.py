import os
import time

VERSION = "v1"


def handler(event, context):
    time.sleep(event.get("sleep", 0))
    return {
        "version": VERSION,
        "greeting": os.environ.get("GREETING"),
        "remainingMs": context.get_remaining_time_in_millis(),
    }
