"""Responses over Lambda's 6 MB limit on request (tests/e2e/test_runtimes.py)."""


def handler(event, context):
    if event.get("big"):
        return "x" * (6 * 1024 * 1024 + 1000)
    return {"small": True}
