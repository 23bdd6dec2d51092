"""Python functions of the soak (bench/soak/template.yaml)."""
import time


def hello(event, context):
    return {"n": event["n"], "lang": "python", "requestId": context.aws_request_id}


class SoakError(Exception):
    pass


def fails(event, context):
    raise SoakError(f"soak error {event['n']}")


def sleeps(event, context):
    time.sleep(event.get("sleep_s", 3))
    return {"n": event["n"], "slept": True}
