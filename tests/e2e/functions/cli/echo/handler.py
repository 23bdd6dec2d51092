def handle(event, request_id, env):
    print(f"echo handling {request_id}", flush=True)
    keys = ["AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
            "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_REGION", "TZ", "GREETING", "LAMBDA_TASK_ROOT", "HOME",
            "AWS_LAMBDA_INITIALIZATION_TYPE", "PWD"]
    return {"event": event, "requestId": request_id, "env": {k: env.get(k) for k in keys},
            "pid": __import__("os").getpid()}
