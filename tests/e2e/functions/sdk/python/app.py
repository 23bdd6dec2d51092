"""python3.12 functions for the client conformance tests."""
import os


def handler(event, context):
    """Echoes the event with the request id and a value derived from it."""
    return {
        "runtime": "python",
        "requestId": context.aws_request_id,
        "functionName": context.function_name,
        "greeting": os.environ.get("GREETING"),
        "event": event,
        "keys": sorted(event) if isinstance(event, dict) else None,
    }


def fail(event, context):
    raise ValueError(f"python says no to {event.get('name', 'nobody')}")


def size(event, context):
    return {"requestId": context.aws_request_id, "length": len(event.get("data", ""))}
