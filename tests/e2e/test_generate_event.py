"""`lambdad generate-event`: sample trigger events printed as JSON, and piped into `lambdad invoke`."""
import base64
import gzip
import hashlib
import json
import subprocess

import pytest

from conftest import FUNCTIONS, LAMBDAD

TEMPLATE = FUNCTIONS / "sdk" / "template.yaml"

EVENTS = [
    ("s3", "put"), ("s3", "delete"), ("sqs", "receive-message"), ("sns", "notification"),
    ("apigateway", "aws-proxy"), ("apigateway", "http-api-proxy"), ("eventbridge", "event"),
    ("eventbridge", "schedule"), ("dynamodb", "update"), ("kinesis", "get-records"),
    ("cloudwatch", "logs"), ("alb", "request"),
]


def generate(*args):
    return subprocess.run([LAMBDAD, "generate-event", *args], capture_output=True, text=True, timeout=30)


@pytest.mark.parametrize("service,event", EVENTS)
def test_every_event_prints_pretty_json(service, event):
    # With its fresh ids (test_generate_event_golden.py pins the --fixed bytes, run after run).
    p = generate(service, event)
    assert p.returncode == 0, p.stderr
    parsed = json.loads(p.stdout)
    assert p.stdout == json.dumps(parsed, indent=2, ensure_ascii=False) + "\n"  # 2-space indent


def test_options_land_in_the_event():
    p = generate("sqs", "receive-message", "--body", "hi", "--queue-name", "orders", "--count", "2",
                 "--region", "eu-west-1", "--account", "111122223333")
    assert p.returncode == 0, p.stderr
    records = json.loads(p.stdout)["Records"]
    assert len(records) == 2
    for r in records:
        assert r["body"] == "hi"
        assert r["md5OfBody"] == hashlib.md5(b"hi").hexdigest()
        assert r["eventSourceARN"] == "arn:aws:sqs:eu-west-1:111122223333:orders"

    p = generate("apigateway", "aws-proxy", "--method", "POST", "--path", "/items/9", "--resource",
                 "/items/{id}", "--query", "a=1", "--query", "a=2", "--header", "X-Key=k")
    e = json.loads(p.stdout)
    assert (e["httpMethod"], e["pathParameters"], e["headers"]["X-Key"]) == ("POST", {"id": "9"}, "k")
    assert e["multiValueQueryStringParameters"] == {"a": ["1", "2"]}

    p = generate("cloudwatch", "logs", "--message", "one", "--message", "two")
    payload = json.loads(gzip.decompress(base64.b64decode(json.loads(p.stdout)["awslogs"]["data"])))
    assert [e["message"] for e in payload["logEvents"]] == ["one", "two"]

    p = generate("kinesis", "get-records", "--data", "plain text")
    assert base64.b64decode(json.loads(p.stdout)["Records"][0]["kinesis"]["data"]) == b"plain text"


@pytest.mark.parametrize("args,expected", [
    (["s4", "put"], "unknown service 's4'"),
    (["s3", "upload"], "its events: put, delete"),
    (["s3"], "give an event for s3"),
    ([], "give SERVICE and EVENT"),
    (["s3", "delete", "--size", "1"], "--size does not apply to s3 delete"),
    (["s3", "put", "--bogus"], "unexpected option '--bogus'; s3 put takes --bucket"),
    (["eventbridge", "event", "--detail", "{nope"], "--detail: not valid JSON"),
    (["dynamodb", "update", "--keys", '{"id": 1}'], "DynamoDB JSON"),
])
def test_bad_usage_exits_2_with_what_is_valid(args, expected):
    p = generate(*args)
    assert p.returncode == 2
    assert expected in p.stderr
    assert p.stdout == ""


def test_help_lists_services_and_an_example():
    p = generate("--help")
    assert p.returncode == 0
    for service, event in EVENTS:
        assert service in p.stdout and event in p.stdout
    assert "lambdad generate-event s3 put" in p.stdout


def test_generated_event_pipes_into_invoke():
    gen = subprocess.Popen([LAMBDAD, "generate-event", "sqs", "receive-message", "--body", "hi"],
                           stdout=subprocess.PIPE)
    inv = subprocess.run([LAMBDAD, "invoke", "PyEcho", "--event", "-", "--template", str(TEMPLATE)],
                         stdin=gen.stdout, capture_output=True, text=True, timeout=60)
    gen.stdout.close()
    assert gen.wait(10) == 0
    assert inv.returncode == 0, inv.stderr
    event = json.loads(inv.stdout)["event"]
    assert event["Records"][0]["body"] == "hi"
    assert event["Records"][0]["eventSource"] == "aws:sqs"
