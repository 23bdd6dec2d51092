"""lambdad's Python runtime client (the counterpart of awslambdaric, standard library only).

Modules: runtime (the init + invoke loop), runtime_api_client (HTTP to the Runtime API),
handler_loader (_HANDLER -> callable), errors (error payloads and their log lines),
lambda_context (the context object), marshaller (JSON in/out), log_setup (stdout, and when
the root logger gets root_logger's format), late_import (the standard library's modules imported
only when needed, found as if imported at start). A cold start imports only what the first /next
needs; bytecode compiled by the build (cmake/RuntimeBytecode.cmake) spares it compiling these.
"""
