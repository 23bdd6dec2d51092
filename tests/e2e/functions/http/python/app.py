import base64
import json
import time


def rest_echo(event, context):
    """Echoes the payload 1.0 event's fields the tests check."""
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"},
            "multiValueHeaders": {"X-Multi": ["a", "b"]},
            "body": json.dumps({"event": event})}


def shapes(event, context):
    """Answers in the shape path parameter `kind` names."""
    kind = event["pathParameters"]["kind"]
    if kind == "bare":
        return {"bare": True, "n": 3}
    if kind == "string":
        return "hello"
    if kind == "binary":
        return {"statusCode": 200, "headers": {"Content-Type": "image/png"},
                "body": base64.b64encode(b"\x89PNG\x00\x01").decode(), "isBase64Encoded": True}
    if kind == "cookies":
        return {"statusCode": 418, "headers": {"x-kind": "cookies"}, "cookies": ["a=1; Path=/", "b=2"], "body": "tea"}
    if kind == "raise":
        raise RuntimeError("the handler failed")
    if kind == "malformed":
        return {"statusCode": "not a status"}
    return {"statusCode": 400, "body": "unknown kind"}


def url_echo(event, context):
    body = event.get("body")
    if event.get("isBase64Encoded"):
        body = base64.b64decode(body).hex()
    return {"statusCode": 200, "headers": {"content-type": "application/json", "x-echo": "1"},
            "body": json.dumps({"event": event, "decoded": body, "requestId": context.aws_request_id})}


def slow(event, context):
    time.sleep(5)
    return "late"
