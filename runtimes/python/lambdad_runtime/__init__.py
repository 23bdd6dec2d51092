"""lambdad's Python runtime client (the counterpart of awslambdaric, standard library only).

Modules: runtime (the init + invoke loop), runtime_api_client (HTTP to the Runtime API),
handler_loader (_HANDLER -> callable), errors (error payloads and their log lines),
lambda_context (the context object), marshaller (JSON in/out), log_setup (root logger and
stdout).
"""
