"""Calc: arithmetic on the event, and ways to fail on purpose (for lambdad test's example suite)."""
import os
import time


def handler(event, context):
    op = event.get("op")
    a, b = event.get("a", 0), event.get("b", 0)
    if op == "add":
        return {"result": a + b}
    if op == "mul":
        return {"result": a * b}
    if op == "div":
        return {"result": round(a / b, int(os.environ.get("PRECISION", "4")))}
    if op == "sum":
        return {"result": sum(event.get("values", [])), "count": len(event.get("values", []))}
    if op == "sleep":
        time.sleep(event.get("seconds", 0))
        return {"slept": event.get("seconds", 0)}
    if op == "exit":
        os._exit(event.get("code", 1))
    if op == "context":
        return {"function": context.function_name, "memory": context.memory_limit_in_mb,
                "version": context.function_version}
    raise ValueError(f"unknown op {op!r}")
