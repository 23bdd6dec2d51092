"""Event bytes -> Python object, handler result -> response bytes, as Lambda's Python runtime
does it (JSON, Decimal accepted, bytes passed through)."""
import decimal
import json
import math
import os

from . import errors


class _Encoder(json.JSONEncoder):
    def default(self, o):
        if isinstance(o, decimal.Decimal):
            if o.is_nan():
                return math.nan
            # The managed runtime writes a Decimal's exact digits; the standard library cannot
            # emit raw number text, so integral values stay exact and others become floats.
            return int(o) if o.is_finite() and o == o.to_integral_value() else float(o)
        return super().default(o)


def _encoder():
    # The managed python3.12 runtime writes non-ASCII characters as they are; the others
    # escape them (\uXXXX).
    ascii_only = os.environ.get("AWS_EXECUTION_ENV") != "AWS_Lambda_python3.12"
    return _Encoder(ensure_ascii=ascii_only)


def to_json(obj):
    return _encoder().encode(obj)


def unmarshal_event(body, content_type):
    """The handler's event. JSON unless the Runtime API said the payload is something else."""
    if content_type and content_type.split(";")[0].strip() != "application/json":
        return body
    try:
        return json.loads(body)
    except Exception as e:
        raise errors.FaultException(
            errors.UNMARSHAL_ERROR, "Unable to unmarshal input: {}".format(e))


def marshal_result(result):
    """(body bytes, content type) for the /response post."""
    if isinstance(result, bytes):
        return result, "application/unknown"
    try:
        return to_json(result).encode("utf-8"), "application/json"
    except Exception as e:
        raise errors.FaultException(
            errors.MARSHAL_ERROR, "Unable to marshal response: {}".format(e))
