"""Event bytes -> Python object, handler result -> response bytes, as Lambda's Python runtime
does it (JSON, Decimal accepted, bytes passed through).

Both go through json's own C accelerator (_json) called as json.loads and json.JSONEncoder call
it, without importing json: json's import (with re and enum) would otherwise be most of what a
cold start imports for a function that uses neither. What the accelerator does not take as it is
(a body that is not UTF-8, a result it cannot encode, an interpreter without it) goes to json
itself, which gives the same value or raises json's own error."""
import math
import os
import sys

from . import errors

_WHITESPACE = " \t\n\r"  # json's WHITESPACE


class _DecoderSettings:
    """What json.JSONDecoder() hands its C scanner."""
    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = {"-Infinity": -math.inf, "Infinity": math.inf, "NaN": math.nan}.__getitem__


try:
    import _json

    _scan_once = _json.make_scanner(_DecoderSettings())
    _make_encoder = _json.make_encoder
    _encode_string_ascii = _json.encode_basestring_ascii
    _encode_string = _json.encode_basestring
except (ImportError, AttributeError, TypeError):
    _scan_once = _make_encoder = None


def _default(o):
    # A Decimal exists only once its module was imported (by the function, boto3's DynamoDB
    # types, ...): the runtime does not import it on every cold start to compare.
    decimal_type = getattr(sys.modules.get("decimal"), "Decimal", None)
    if isinstance(decimal_type, type) and isinstance(o, decimal_type):
        if o.is_nan():
            return math.nan
        # The managed runtime writes a Decimal's exact digits; the standard library cannot
        # emit raw number text, so integral values stay exact and others become floats.
        return int(o) if o.is_finite() and o == o.to_integral_value() else float(o)
    raise TypeError(f"Object of type {o.__class__.__name__} is not JSON serializable")


def to_json(obj):
    """json.JSONEncoder(ensure_ascii=..., default=_default).encode(obj)."""
    # The managed python3.12 runtime writes non-ASCII characters as they are; the others
    # escape them (\uXXXX).
    ascii_only = os.environ.get("AWS_EXECUTION_ENV") != "AWS_Lambda_python3.12"
    if _make_encoder is not None:
        encode_string = _encode_string_ascii if ascii_only else _encode_string
        try:
            if isinstance(obj, str):
                return encode_string(obj)
            # (markers, default, encoder, indent, key_separator, item_separator, sort_keys,
            # skipkeys, allow_nan): what JSONEncoder.iterencode passes for these settings.
            return "".join(_make_encoder({}, _default, encode_string, None, ": ", ", ", False, False, True)(obj, 0))
        except Exception:
            pass  # json raises the error, with its own message
    import json
    return json.JSONEncoder(ensure_ascii=ascii_only, default=_default).encode(obj)


def from_json(data):
    """json.loads(data), for str or bytes."""
    if _scan_once is not None:
        text = data
        if isinstance(data, bytes):
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                text = None  # json.loads detects UTF-16 and UTF-32, and passes surrogates
        if isinstance(text, str) and not text.startswith("\ufeff"):
            try:
                value, end = _scan_once(text, len(text) - len(text.lstrip(_WHITESPACE)))
            except Exception:
                pass  # json raises the error, with its own message
            else:
                if len(text.rstrip(_WHITESPACE)) <= end:
                    return value
    import json
    return json.loads(data)


def unmarshal_event(body, content_type):
    """The handler's event. JSON unless the Runtime API said the payload is something else."""
    if content_type and content_type.split(";")[0].strip() != "application/json":
        return body
    try:
        return from_json(body)
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
