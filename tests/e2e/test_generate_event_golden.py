"""`lambdad generate-event --fixed`: the exact bytes of every event, with its defaults and with each of
its options, and the messages and exit codes of its usage errors, against
tests/e2e/golden/generate-event.txt. test_generate_event.py checks what the fields mean; this pins
everything else (field order, defaults, the length and place of each id) that an edit of a
template could change unseen.

After a change that means to alter an event: /usr/bin/python3 tests/e2e/test_generate_event_golden.py
rewrites the golden file from build/lambdad (or $LAMBDAD_BIN); review its diff.
"""
import json
import os
import pathlib
import subprocess
import sys
import tempfile

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from conftest import LAMBDAD  # noqa: E402

GOLDEN = pathlib.Path(__file__).parent / "golden" / "generate-event.txt"

EVENTS = [
    ("s3", "put"), ("s3", "delete"), ("sqs", "receive-message"), ("sns", "notification"),
    ("apigateway", "aws-proxy"), ("apigateway", "http-api-proxy"), ("eventbridge", "event"),
    ("eventbridge", "schedule"), ("dynamodb", "update"), ("kinesis", "get-records"),
    ("cloudwatch", "logs"), ("alb", "request"),
]
HTTP = ["--method", "post", "--path", "/items/42", "--body", '{"n": 1}', "--query", "a=1", "--query", "a=2",
        "--query", "b=x y", "--header", "X-Test=one", "--header", "x-test=two", "--header", "Accept=text/plain",
        "--header", "Cookie=s=1; theme=dark"]
SETTINGS = ["--account", "111122223333", "--region", "eu-west-1"]

CASES = [[service, event] for service, event in EVENTS] + [
    # Each option of each event, with the common settings.
    ["s3", "put", "--bucket", "photos", "--key", "cats/my cat+1.jpg", "--size", "2048", "--etag", "abc", *SETTINGS],
    ["s3", "delete", "--bucket", "photos", "--key", "old file.txt", "--etag", "abc", *SETTINGS],
    ["sqs", "receive-message", "--body", "hi", "--queue-name", "orders", "--count", "3", *SETTINGS],
    ["sns", "notification", "--message", "shipped", "--subject", "Order",
     "--topic-arn", "arn:aws:sns:us-west-2:111122223333:orders", *SETTINGS],
    ["apigateway", "aws-proxy", *HTTP, "--resource", "/items/{id}", "--stage", "dev", *SETTINGS],
    ["apigateway", "http-api-proxy", *HTTP, "--stage", "beta", "--route-key", "ANY /items/{id}", *SETTINGS],
    ["eventbridge", "event", "--source", "com.shop", "--detail-type", "Order Placed",
     "--detail", '{"orderId": 7, "items": [1, 2]}', "--resource-arn", "arn:aws:s3:::a", "--resource-arn", "b",
     *SETTINGS],
    ["eventbridge", "schedule", "--rule", "nightly", *SETTINGS],
    ["dynamodb", "update", "--table", "Orders", "--keys", '{"pk": {"S": "order#1"}}',
     "--new-image", '{"pk": {"S": "order#1"}, "items": {"L": [{"N": "1"}, {"BOOL": true}]}}',
     "--old-image", '{"pk": {"S": "order#1"}, "state": {"S": "new"}}', *SETTINGS],
    ["kinesis", "get-records", "--stream", "clicks", "--data", "hello", "--partition-key", "user-9", "--count", "2",
     *SETTINGS],
    ["cloudwatch", "logs", "--log-group", "/aws/lambda/orders", "--log-stream", "2024/06/01/[$LATEST]abc",
     "--message", "one", "--message", "two", "--message", "three", *SETTINGS],
    ["alb", "request", *HTTP, "--target-group-arn", "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/t/1",
     *SETTINGS],
    # Shapes that follow from the options.
    ["s3", "delete", "--key", "a/b"],
    ["apigateway", "aws-proxy", "--path", "/a/b/c"],
    ["apigateway", "aws-proxy", "--path", "/", "--body", ""],
    ["apigateway", "http-api-proxy", "--route-key", "$default", "--path", "noslash"],
    ["apigateway", "http-api-proxy", "--method", "DELETE", "--route-key", "DELETE /{proxy+}", "--path", "/x/y"],
    ["alb", "request", "--body", "", "--query", "q=a b&c"],
    ["dynamodb", "update", "--keys", '{"pk": {"S": "k"}, "Message": {"N": "1"}}'],
    # Usage errors: each message once.
    [], ["s4", "put"], ["s3"], ["s3", "upload"], ["s3", "put", "--bogus"], ["s3", "put", "extra"],
    ["s3", "delete", "--size", "1"], ["s3", "put", "--size", "-1"], ["sqs", "receive-message", "--count", "0"],
    ["kinesis", "get-records", "--count", "10001"], ["sns", "notification", "--message", "a", "--message", "b"],
    ["sns", "notification", "--topic-arn", "orders"], ["apigateway", "aws-proxy", "--method", "fetch"],
    ["alb", "request", "--path", "/a?b=1"], ["apigateway", "http-api-proxy", "--query", "novalue"],
    ["alb", "request", "--header", "bad"], ["apigateway", "aws-proxy", "--resource", "items"],
    ["apigateway", "aws-proxy", "--path", "/a/b", "--resource", "/other/{id}"],
    ["apigateway", "http-api-proxy", "--route-key", "GET items"],
    ["apigateway", "http-api-proxy", "--method", "PUT", "--route-key", "GET /hello"],
    ["alb", "request", "--target-group-arn", "users"], ["eventbridge", "event", "--detail", "{nope"],
    ["eventbridge", "event", "--detail", "[1]"], ["eventbridge", "event", "--source", ""],
    ["eventbridge", "schedule", "--rule", "a/b"], ["dynamodb", "update", "--keys", "[1]"],
    ["dynamodb", "update", "--new-image", '{"pk": "x"}'], ["dynamodb", "update", "--old-image", '{"pk": {"STR": "x"}}'],
]


def header(args):
    return "### generate-event " + json.dumps(args) + "\n"


def record(args):
    """The case's header, exit code, stdout and stderr, as the golden file holds them."""
    fixed = args + ["--fixed"] if len(args) >= 2 else args
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAMBDAD_")}
    with tempfile.TemporaryDirectory() as cwd:  # no lambdad.toml around
        p = subprocess.run(["lambdad", "generate-event", *fixed], executable=LAMBDAD, capture_output=True,
                           text=True, env=env, cwd=cwd, timeout=30)
    return f"{header(args)}exit {p.returncode}\n--- stdout\n{p.stdout}--- stderr\n{p.stderr}"


def golden_records():
    text = GOLDEN.read_text()
    blocks = text.split("### generate-event ")[1:]
    return {"### generate-event " + b.split("\n", 1)[0] + "\n": "### generate-event " + b for b in blocks}


@pytest.fixture(scope="module")
def golden():
    return golden_records()


@pytest.mark.parametrize("args", CASES, ids=lambda a: " ".join(a) or "(none)")
def test_output_is_the_golden_files(golden, args):
    assert header(args) in golden, "not in the golden file: rewrite it (see the module's docstring)"
    assert record(args) == golden[header(args)]


def test_the_golden_file_holds_just_these_cases(golden):
    assert list(golden) == [header(args) for args in CASES]


if __name__ == "__main__":
    GOLDEN.parent.mkdir(exist_ok=True)
    GOLDEN.write_text("".join(record(args) for args in CASES))
    print(f"wrote {len(CASES)} cases to {GOLDEN}")
