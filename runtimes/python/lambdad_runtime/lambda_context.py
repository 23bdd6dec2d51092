"""The `context` argument of a Python handler, with the attributes Lambda's runtime provides."""
import os
import sys
import time

_W3C_FIELDS = ("traceparent", "tracestate", "baggage")


class CognitoIdentity:
    __slots__ = ["cognito_identity_id", "cognito_identity_pool_id"]

    def __repr__(self):
        return "CognitoIdentity([cognito_identity_id={},cognito_identity_pool_id={}])".format(
            self.cognito_identity_id, self.cognito_identity_pool_id)


class Client:
    __slots__ = ["installation_id", "app_title", "app_version_name", "app_version_code",
                 "app_package_name"]

    def __repr__(self):
        return "Client([{}])".format(",".join(
            "{}={}".format(name, getattr(self, name)) for name in self.__slots__))


class ClientContext:
    __slots__ = ["custom", "env", "client"]

    def __repr__(self):
        return "ClientContext([custom={},env={},client={}])".format(
            self.custom, self.env, self.client)


def _from_dict(cls, values):
    if values is None:
        return None
    obj = cls()
    for name in cls.__slots__:
        setattr(obj, name, values.get(name) if isinstance(values, dict) else None)
    return obj


class LambdaContext:
    def __init__(self, request_id, client_context, cognito_identity, deadline_ms,
                 invoked_function_arn=None, tenant_id=None):
        self.aws_request_id = request_id
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        # A string, as in Lambda (it comes from the environment).
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = invoked_function_arn
        self.tenant_id = tenant_id
        self._w3c = _pop_w3c(client_context)
        self.client_context = _from_dict(ClientContext, client_context)
        if self.client_context is not None:
            self.client_context.client = _from_dict(Client, self.client_context.client)
        self.identity = _from_dict(CognitoIdentity, {})
        if cognito_identity is not None:
            self.identity.cognito_identity_id = cognito_identity.get("cognitoIdentityId")
            self.identity.cognito_identity_pool_id = cognito_identity.get(
                "cognitoIdentityPoolId")
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self):
        remaining = self._deadline_ms - int(time.time() * 1000)
        return remaining if remaining > 0 else 0

    def w3c(self):
        """W3C trace context (traceparent, tracestate, baggage) passed in the client context."""
        return dict(self._w3c)

    def log(self, msg):
        logging = sys.modules.get("logging")  # not imported: no handler of the runtime's yet
        for handler in logging.getLogger().handlers if logging else ():
            if hasattr(handler, "log_sink"):
                handler.log_sink.write(str(msg))
                return
        sys.stdout.write(str(msg))

    def __repr__(self):
        fields = ["aws_request_id", "log_group_name", "log_stream_name", "function_name",
                  "memory_limit_in_mb", "function_version", "invoked_function_arn",
                  "client_context", "identity", "tenant_id"]
        return "LambdaContext([{}])".format(
            ",".join("{}={}".format(f, getattr(self, f)) for f in fields))


def _pop_w3c(client_context):
    """Moves the allow-listed string fields of client_context["w3c"] out of the client context."""
    if not isinstance(client_context, dict) or "w3c" not in client_context:
        return {}
    raw = client_context.pop("w3c")
    if not isinstance(raw, dict):
        return {}
    return {k: raw[k] for k in _W3C_FIELDS if isinstance(raw.get(k), str)}
