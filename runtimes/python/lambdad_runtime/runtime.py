"""Init (load the handler or report /init/error) and the invoke loop (next -> handler ->
response or error), as Lambda's managed Python runtime does them."""
import os
import sys

from . import errors, handler_loader, isolation, late_import, log_setup, marshaller
from .lambda_context import LambdaContext
from .runtime_api_client import RuntimeApiClient, RuntimeApiError

_UNHANDLED_WARNING = (
    "LAMBDA_WARNING: Unhandled exception. The most likely cause is an issue in the function "
    "code; check the error below.")


def _parse_json_header(text, name):
    if not text:
        return None
    try:
        return marshaller.from_json(text)
    except Exception as e:
        raise errors.FaultException(
            errors.LAMBDA_CONTEXT_UNMARSHAL_ERROR, "Unable to parse {} JSON: {}".format(name, e))


class Runtime:
    def __init__(self, client, log_sink, state, json_logs):
        self._client = client
        self._sink = log_sink
        self._state = state
        self._json_logs = json_logs
        self._handler = None

    def _log_error(self, error):
        if self._json_logs:
            self._sink.write_error(log_setup.error_json_record(error))
        else:
            self._sink.write_error(errors.text_log_record(error))

    def init(self, handler_string):
        """Loads the handler; on failure reports /init/error and exits like Lambda's runtime."""
        try:
            self._handler = handler_loader.load_handler(handler_string)
        except Exception as e:
            error = errors.error_from_exception(e)
            import logging  # the root logger gets Lambda's handler as it is imported (log_setup)

            logging.warning(_UNHANDLED_WARNING)
            self._log_error(error)
            self._client.post_init_error(error)
            sys.exit(1)

    def snap_start(self, snapshot_socket):
        """SnapStart's sequence after init (lambdad_runtime.snapshot); returns in the environment
        that goes on to serve invokes (a restored copy, or this one restored in place)."""
        from . import snapshot

        try:
            snapshot.run_before_snapshot()
        except Exception as e:
            self._fail_hook(e, lambda error: self._client.post_init_error(error, snapshot.BEFORE_SNAPSHOT_ERROR), 64)
        if snapshot_socket and snapshot.become_snapshot(snapshot_socket):
            self._client.close()  # the snapshot's; this copy talks to its own environment
            self._client = RuntimeApiClient(os.environ["AWS_LAMBDA_RUNTIME_API"])
        self._client.restore_next()
        try:
            snapshot.run_after_restore()
        except Exception as e:
            self._fail_hook(e, lambda error: self._client.post_restore_error(error, snapshot.AFTER_RESTORE_ERROR), 65)

    def _fail_hook(self, exc, post, code):
        error = errors.error_from_exception(exc)
        self._log_error(error)
        post(error)
        sys.exit(code)

    def run_forever(self):
        while True:
            self.handle(self._client.next_invocation())

    def handle(self, invocation):
        self._state.request_id = invocation.request_id
        self._state.tenant_id = invocation.tenant_id
        if invocation.trace_id:
            os.environ["_X_AMZN_TRACE_ID"] = invocation.trace_id
        else:
            os.environ.pop("_X_AMZN_TRACE_ID", None)

        try:
            context = LambdaContext(
                invocation.request_id,
                _parse_json_header(invocation.client_context, "Client Context"),
                _parse_json_header(invocation.cognito_identity, "Cognito Identity"),
                invocation.deadline_ms,
                invocation.invoked_function_arn,
                invocation.tenant_id)
            event = marshaller.unmarshal_event(invocation.body, invocation.content_type)
            result = self._handler(event, context)
            body, content_type = marshaller.marshal_result(result)
        except Exception as e:
            error = errors.error_from_exception(e, invocation.request_id)
            cause = errors.xray_cause(e, os.getcwd())
            del e  # drop the traceback (and the frames it keeps alive) before posting
            self._log_error(error)
            self._client.post_error(invocation.request_id, error, cause)
            return
        self._client.post_response(invocation.request_id, body, content_type)


def _utf8_stream(stream):
    if (getattr(stream, "encoding", "") or "").lower().replace("-", "") != "utf8":
        try:
            stream.reconfigure(encoding="utf-8")
        except (AttributeError, ValueError):
            pass
    return log_setup.Unbuffered(stream)


def main(runtime_dir):
    sys.stdout = _utf8_stream(sys.stdout)
    sys.stderr = _utf8_stream(sys.stderr)
    try:
        address = os.environ["AWS_LAMBDA_RUNTIME_API"]
    except KeyError:
        sys.stderr.write("AWS_LAMBDA_RUNTIME_API is not set\n")
        sys.exit(1)
    late_import.start()  # before sys.path is the function's
    max_concurrency = os.environ.get("AWS_LAMBDA_MAX_CONCURRENCY")
    if max_concurrency is not None:
        # Lambda Managed Instances: one process per slot. Imported (with what it imports) before
        # sys.path is the function's, whose own signal.py or ctypes must not stand in for them.
        from . import workers
    state = log_setup.InvokeState()
    sink = log_setup.StdoutSink(lambda: sys.stdout)
    json_logs = log_setup.is_json_format(os.environ.get("AWS_LAMBDA_LOG_FORMAT"))
    log_setup.setup_root_logger(
        sink, state, json_logs, log_setup.level_from_env(os.environ.get("AWS_LAMBDA_LOG_LEVEL")))

    # lambdad's, not the function's: it never sees it (docs/decisions/023).
    snapshot_socket = os.environ.pop("_LAMBDAD_SNAPSHOT_SOCKET", None)
    task_root = os.environ.get("LAMBDA_TASK_ROOT") or os.getcwd()
    isolation.prepare_sys_path(runtime_dir, task_root)
    isolation.install_sdk_finder()
    isolation.add_site_builtins()

    if max_concurrency is None:
        client = RuntimeApiClient(address)
    else:
        client = workers.fork_workers(workers.worker_count(max_concurrency), address)
    runtime = Runtime(client, sink, state, json_logs)
    try:
        runtime.init(os.environ.get("_HANDLER", ""))
        if os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") == "snap-start":
            runtime.snap_start(snapshot_socket)
        runtime.run_forever()
    except (RuntimeApiError, OSError) as e:
        sys.stderr.write("lambdad python runtime: {}\n".format(e))
        sys.exit(1)
