"""Unit tests of lambdad's Python runtime client helpers (handler strings, error payloads and
log records, JSON marshalling, the context object). No network, no daemon."""
import decimal
import json
import os
import pathlib
import sys
import tempfile
import time
import unittest
import unittest.mock

REPO = pathlib.Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "runtimes" / "python"))

from lambdad_runtime import errors, handler_loader, log_setup, marshaller, root_logger  # noqa: E402
from lambdad_runtime.lambda_context import LambdaContext  # noqa: E402


class HandlerStringTest(unittest.TestCase):
    def test_splits_at_the_last_dot(self):
        self.assertEqual(handler_loader.split_handler("app.handler"), ("app", "handler"))
        self.assertEqual(handler_loader.split_handler("pkg.mod.fn"), ("pkg.mod", "fn"))
        self.assertEqual(handler_loader.split_handler("dir/sub/mod.fn"), ("dir/sub/mod", "fn"))

    def test_no_dot_is_a_malformed_handler_name(self):
        with self.assertRaises(errors.FaultException) as cm:
            handler_loader.split_handler("nodot")
        self.assertEqual(cm.exception.error_type, "Runtime.MalformedHandlerName")
        self.assertEqual(cm.exception.message,
                         "Bad handler 'nodot': not enough values to unpack (expected 2, got 1)")


class LoadHandlerTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        sys.path.insert(0, self.dir.name)
        self.addCleanup(self.dir.cleanup)
        self.addCleanup(sys.path.remove, self.dir.name)

    def write(self, name, text):
        path = pathlib.Path(self.dir.name, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)

    def fault(self, handler):
        with self.assertRaises(errors.FaultException) as cm:
            handler_loader.load_handler(handler)
        return cm.exception

    def test_loads_module_function_and_nested_paths(self):
        self.write("ut_app1.py", "def handler(e, c):\n    return 1\n")
        self.write("ut_dir1/sub/mod.py", "def fn(e, c):\n    return 2\n")
        self.assertEqual(handler_loader.load_handler("ut_app1.handler")(None, None), 1)
        self.assertEqual(handler_loader.load_handler("ut_dir1/sub/mod.fn")(None, None), 2)
        self.assertEqual(handler_loader.load_handler("ut_dir1.sub.mod.fn")(None, None), 2)

    def test_missing_module(self):
        e = self.fault("ut_nope.handler")
        self.assertEqual(e.error_type, "Runtime.ImportModuleError")
        self.assertEqual(e.message, "Unable to import module 'ut_nope': No module named 'ut_nope'")

    def test_missing_function(self):
        self.write("ut_app2.py", "x = 1\n")
        e = self.fault("ut_app2.handler")
        self.assertEqual(e.error_type, "Runtime.HandlerNotFound")
        self.assertEqual(e.message, "Handler 'handler' missing on module 'ut_app2'")

    def test_syntax_error(self):
        self.write("ut_app3.py", "def handler(e, c)\n    return 1\n")
        e = self.fault("ut_app3.handler")
        self.assertEqual(e.error_type, "Runtime.UserCodeSyntaxError")
        self.assertTrue(e.message.startswith("Syntax error in module 'ut_app3': "))
        self.assertRegex(e.stack_trace[0], r'^  File ".*ut_app3.py" Line 1\n    def handler')

    def test_builtin_module_conflict(self):
        e = self.fault("sys.handler")
        self.assertEqual(e.error_type, "Runtime.BuiltInModuleConflict")


class ErrorPayloadTest(unittest.TestCase):
    def test_shape_and_key_order(self):
        error = errors.make_error("boom", "ValueError", None, "rid")
        self.assertEqual(list(error), ["errorMessage", "errorType", "requestId", "stackTrace"])
        self.assertEqual(error, {"errorMessage": "boom", "errorType": "ValueError",
                                 "requestId": "rid", "stackTrace": []})
        self.assertEqual(errors.make_error("m", "T", None)["requestId"], "")

    def test_user_exception_has_formatted_frames(self):
        def user_code():
            raise KeyError("k")
        try:
            user_code()
        except KeyError as e:
            error = errors.error_from_exception(e, "rid")
        self.assertEqual(error["errorType"], "KeyError")
        self.assertEqual(error["errorMessage"], "'k'")
        self.assertTrue(error["stackTrace"][-1].startswith('  File "'))
        self.assertIn('raise KeyError("k")', error["stackTrace"][-1])

    def test_text_log_record_joins_lines_with_lf(self):
        error = errors.make_error("bad", "ValueError",
                                  ['  File "/var/task/app.py", line 2, in handler\n    raise X\n'])
        self.assertEqual(
            errors.text_log_record(error),
            "[ERROR] ValueError: bad\nTraceback (most recent call last):\n"
            "\u00a0\u00a0File \"/var/task/app.py\", line 2, in handler\n"
            "\u00a0\u00a0\u00a0\u00a0raise X\n")

    def test_text_log_record_without_message_or_trace(self):
        self.assertEqual(errors.text_log_record({"errorType": "T"}), "[ERROR] T\n")
        self.assertEqual(errors.text_log_record({"errorMessage": "m", "stackTrace": []}),
                         "[ERROR] m\nTraceback (most recent call last):\n")


class MarshallerTest(unittest.TestCase):
    def test_results(self):
        self.assertEqual(marshaller.marshal_result(None), (b"null", "application/json"))
        self.assertEqual(marshaller.marshal_result(b"\x00raw"), (b"\x00raw", "application/unknown"))
        self.assertEqual(marshaller.marshal_result({"d": decimal.Decimal("2"),
                                                    "f": decimal.Decimal("1.5")})[0],
                         b'{"d": 2, "f": 1.5}')

    def test_json_accelerator_gives_what_json_gives(self):
        # The runtime calls json's C accelerator without importing json; on this interpreter it
        # must be there, and agree with json on values, text and errors.
        self.assertIsNotNone(marshaller._scan_once)
        self.assertIsNotNone(marshaller._make_encoder)
        values = [None, True, 0, -7, 10 ** 30, 1.5, 1e300, float("inf"), float("nan"), "",
                  "caf\u00e9 \u65e5\u672c \U0001F600 \"q\" \\ \n\t\x01", [], {},
                  {"a": [1, {"b": None}], "": "e", "k\u00e9y": [1.25, -0.0]}, (1, 2), [[[]]]]
        for ascii_only, env in ((True, "AWS_Lambda_python3.11"), (False, "AWS_Lambda_python3.12")):
            encoder = json.JSONEncoder(ensure_ascii=ascii_only)
            with unittest.mock.patch.dict(os.environ, {"AWS_EXECUTION_ENV": env}):
                for value in values:
                    self.assertEqual(marshaller.to_json(value), encoder.encode(value), repr(value))
        documents = ['{"a": [1, 2.5, "x"], "b": null}', ' \n 42 \t', '"\\u00e9\\ud83d\\ude00"',
                     '[NaN, Infinity, -Infinity]', '{"a": {"a": {"a": []}}}', '1e400', '-0',
                     '123456789012345678901234567890']
        for text in documents:
            for data in (text, text.encode("utf-8"), text.encode("utf-16"), b"\xef\xbb\xbf" + text.encode()):
                expected = json.loads(data)
                got = marshaller.from_json(data)
                self.assertEqual(json.dumps(got), json.dumps(expected), repr(data))
        for bad in ['', ' ', '{"a": 1} x', '[1,]', '{"a" 1}', '\ufeff{}', 'nul', '"\x01"', b"\xff"]:
            with self.assertRaises(json.JSONDecodeError if not isinstance(bad, bytes) else ValueError) as cm:
                marshaller.from_json(bad)
            with self.assertRaises(type(cm.exception)) as expected:
                json.loads(bad)
            self.assertEqual(str(cm.exception), str(expected.exception), repr(bad))

    def test_unserializable_result_is_a_marshal_error(self):
        with self.assertRaises(errors.FaultException) as cm:
            marshaller.marshal_result({1, 2})
        self.assertEqual(cm.exception.error_type, "Runtime.MarshalError")
        self.assertEqual(cm.exception.message,
                         "Unable to marshal response: Object of type set is not JSON serializable")

    def test_non_ascii_follows_the_runtime_version(self):
        old = os.environ.get("AWS_EXECUTION_ENV")
        try:
            os.environ["AWS_EXECUTION_ENV"] = "AWS_Lambda_python3.12"
            self.assertEqual(marshaller.to_json("é"), '"é"')
            os.environ["AWS_EXECUTION_ENV"] = "AWS_Lambda_python3.13"
            self.assertEqual(marshaller.to_json("é"), '"\\u00e9"')
        finally:
            if old is None:
                os.environ.pop("AWS_EXECUTION_ENV", None)
            else:
                os.environ["AWS_EXECUTION_ENV"] = old

    def test_events(self):
        self.assertEqual(marshaller.unmarshal_event(b'{"a": 1}', "application/json"), {"a": 1})
        self.assertEqual(marshaller.unmarshal_event(b'{"a": 1}', None), {"a": 1})
        self.assertEqual(marshaller.unmarshal_event(b"raw", "text/plain"), b"raw")
        with self.assertRaises(errors.FaultException) as cm:
            marshaller.unmarshal_event(b"{", "application/json")
        self.assertEqual(cm.exception.error_type, "Runtime.UnmarshalError")


class LambdaContextTest(unittest.TestCase):
    def test_fields(self):
        os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = "256"
        deadline = int(time.time() * 1000) + 5000
        ctx = LambdaContext("rid", {"custom": {"k": "v"}, "w3c": {"traceparent": "tp", "x": "y"}},
                            {"cognitoIdentityId": "id", "cognitoIdentityPoolId": "pool"},
                            deadline, "arn:aws:lambda:us-east-1:123456789012:function:f")
        self.assertEqual(ctx.memory_limit_in_mb, "256")
        self.assertTrue(0 < ctx.get_remaining_time_in_millis() <= 5000)
        self.assertEqual(ctx.client_context.custom, {"k": "v"})
        self.assertIsNone(ctx.client_context.client)
        self.assertEqual(ctx.w3c(), {"traceparent": "tp"})
        self.assertEqual(ctx.identity.cognito_identity_id, "id")
        self.assertEqual(ctx.identity.cognito_identity_pool_id, "pool")

    def test_remaining_time_never_negative_and_identity_always_present(self):
        ctx = LambdaContext("rid", None, None, 1000)
        self.assertEqual(ctx.get_remaining_time_in_millis(), 0)
        self.assertIsNone(ctx.client_context)
        self.assertIsNone(ctx.identity.cognito_identity_id)


class LogSetupTest(unittest.TestCase):
    def test_levels_from_env(self):
        self.assertEqual(log_setup.level_from_env(None), "")
        self.assertEqual(log_setup.level_from_env("trace"), "DEBUG")
        self.assertEqual(log_setup.level_from_env("warn"), "WARN")

    def test_json_record(self):
        import logging
        record = logging.LogRecord("root", logging.INFO, "/x.py", 3, "hi %s", ("there",), None)
        record.aws_request_id = "rid"
        record.tenant_id = None
        line = json.loads(root_logger.JsonFormatter().format(record))
        self.assertEqual(line["level"], "INFO")
        self.assertEqual(line["message"], "hi there")
        self.assertEqual(line["requestId"], "rid")
        self.assertRegex(line["timestamp"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


if __name__ == "__main__":
    unittest.main()
