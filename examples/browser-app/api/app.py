"""The page's back end: an HTTP API route and a WebSocket API's routes."""
import json


def greet(event, context):
    """POST /greet (HTTP API, payload 2.0): a greeting built from the JSON body and the request."""
    try:
        body = json.loads(event.get("body") or "{}")
    except json.JSONDecodeError:
        return {"statusCode": 400, "body": json.dumps({"message": "the body is not JSON"})}
    name = body.get("name") if isinstance(body, dict) else None
    http = event["requestContext"]["http"]
    answer = {
        "greeting": f"Hello, {name or 'stranger'}!",
        "method": http["method"],
        "path": http["path"],
        "sourceIp": http["sourceIp"],
        "origin": event.get("headers", {}).get("origin"),
        "apiId": event["requestContext"]["apiId"],
        "requestId": event["requestContext"]["requestId"],
    }
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": json.dumps(answer)}


def socket(event, context):
    """$connect accepts; $default sends the message back, with what the API said of it."""
    ctx = event["requestContext"]
    if ctx["routeKey"] != "$default":
        return {"statusCode": 200}
    reply = {
        "echo": event.get("body"),
        "routeKey": ctx["routeKey"],
        "stage": ctx["stage"],
        "connectionId": ctx["connectionId"],
    }
    return {"statusCode": 200, "body": json.dumps(reply)}
