"""Python functions for tests/e2e/test_runtimes.py."""
import logging
import os

logger = logging.getLogger()


def echo(event, context):
    return {"event": event, "requestId": context.aws_request_id}


def returns_none(event, context):
    return None


def raises(event, context):
    raise ValueError("something went wrong: " + str(event.get("why")))


def context_fields(event, context):
    return {
        "awsRequestId": context.aws_request_id,
        "remainingMs": context.get_remaining_time_in_millis(),
        "invokedFunctionArn": context.invoked_function_arn,
        "functionName": context.function_name,
        "functionVersion": context.function_version,
        "memoryLimitInMB": context.memory_limit_in_mb,
        "logGroupName": context.log_group_name,
        "logStreamName": context.log_stream_name,
        "traceEnv": os.environ.get("_X_AMZN_TRACE_ID"),
        "identity": context.identity.cognito_identity_id,
        "clientContext": context.client_context.custom if context.client_context else None,
    }


def logs(event, context):
    print("printed " + event["marker"])
    logger.warning("logged %s", event["marker"])
    return "ok"


def unserializable(event, context):
    return {"a set": {1, 2}}
