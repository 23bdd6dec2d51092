"""The Lambda control plane (docs/decisions/008) driven by real clients against the real daemon:
boto3 for almost everything, urllib for a few wire-level checks, the AWS CLI v2 for one whole
lifecycle.

Functions are created from zips of functions/control_plane/{python,node,provided} built here,
with a `code_version.txt` added so that an invoke's result names the code that produced it. One
daemon serves the whole module (every test uses its own function names); the persistence test
starts its own daemons on a --state-dir.
"""
import base64
import concurrent.futures
import hashlib
import io
import json
import os
import pathlib
import re
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
import zipfile

import pytest
from botocore.exceptions import ClientError

import conftest
from conftest import FUNCTIONS, SHARED, Daemon, lambda_client, wait_for

HERE = FUNCTIONS / "control_plane"
TEMPLATE = HERE / "template.yaml"
TEMPLATE_FUNCTIONS = ("TemplateEcho", "TemplateNodeEcho")
ARN = "arn:aws:lambda:us-east-1:123456789012:function:"
ROLE = "arn:aws:iam::123456789012:role/lambda-role"
from conftest import AWS_CLI as AWS  # noqa: E402
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
LAST_MODIFIED = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$")
# The SDK waiters poll every second by default; the daemon unpacks a small zip in milliseconds.
FAST = {"Delay": 0.1, "MaxAttempts": 600}

SOURCES = {  # runtime -> (source directory, handler)
    "python3.12": (HERE / "python", "app.handler"),
    "nodejs20.x": (HERE / "node", "app.handler"),
    "provided.al2023": (HERE / "provided", "unused.handler"),
}


# ---------------------------------------------------------------------------------------------
# helpers

def make_zip(source, code_version=None):
    """A deterministic zip of `source` (file modes kept, so a `bootstrap` stays executable),
    plus code_version.txt when given."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for path in sorted(pathlib.Path(source).rglob("*")):
            if "__pycache__" in path.parts or not path.is_file():
                continue
            info = zipfile.ZipInfo(str(path.relative_to(source)), date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = (path.stat().st_mode & 0o777) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, path.read_bytes())
        if code_version is not None:
            info = zipfile.ZipInfo("code_version.txt", date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            z.writestr(info, code_version)
    return buf.getvalue()


def sha256_b64(data):
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def create(client, name, runtime="python3.12", code_version="v1", handler=None, wait=True, **kwargs):
    source, default_handler = SOURCES[runtime]
    response = client.create_function(
        FunctionName=name, Runtime=runtime, Role=ROLE, Handler=handler or default_handler,
        Code={"ZipFile": make_zip(source, code_version)}, **kwargs)
    if wait:
        client.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig=FAST)
    return response


def wait_updated(client, name):
    client.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig=FAST)


def invoke(client, name, payload=None, **kwargs):
    """conftest's invoke, with the decoded JSON result in "Result" when the call succeeded."""
    response = conftest.invoke(client, name, payload, **kwargs)
    if response.get("StatusCode") == 200 and "FunctionError" not in response:
        response["Result"] = json.loads(response["Body"])
    return response


def tail(response):
    return base64.b64decode(response["LogResult"]).decode("utf-8", "replace")


def error_of(call, *args, **kwargs):
    """Runs a client call that must fail; returns botocore's error response."""
    with pytest.raises(ClientError) as e:
        call(*args, **kwargs)
    return e.value.response


def status_of(response):
    return response["ResponseMetadata"]["HTTPStatusCode"]


def json_lines(path):
    try:
        with open(path, encoding="utf-8") as f:
            return [json.loads(line) for line in f.read().splitlines() if line]
    except FileNotFoundError:
        return []


def http(method, url, body=None, headers=None, timeout=30):
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def all_function_names(client):
    names = []
    for page in client.get_paginator("list_functions").paginate():
        names += [f["FunctionName"] for f in page["Functions"]]
    return names


def assert_not_found(client, name):
    err = error_of(client.get_function, FunctionName=name)
    assert err["Error"]["Code"] == "ResourceNotFoundException", err
    assert err["Error"]["Message"] == f"Function not found: {ARN}{name}"
    assert status_of(err) == 404


# ---------------------------------------------------------------------------------------------
# fixtures

@pytest.fixture(scope="module")
def daemon():
    d = Daemon(TEMPLATE, "--async-retry-base", "10ms")
    yield d
    problems = d.stop_and_check()
    assert not problems, "\n".join(problems)


@pytest.fixture(scope="module")
def client(daemon):
    return lambda_client(daemon.endpoint)


@pytest.fixture(scope="module")
def host():
    """A directory the functions can write to and the test can read (functions see only what
    the test daemons --share)."""
    SHARED.mkdir(mode=0o1777, exist_ok=True)
    d = pathlib.Path(tempfile.mkdtemp(prefix="cp-", dir=SHARED))
    os.chmod(d, 0o777)
    yield d
    shutil.rmtree(d, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# 1. CreateFunction, GetFunction, Invoke

def test_create_function_returns_pending_configuration_then_becomes_active(client):
    name = unique("cp-create")
    code = make_zip(HERE / "python", "v1")
    r = client.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE,
                               Handler="app.handler", Code={"ZipFile": code})

    assert status_of(r) == 201
    assert r["FunctionName"] == name
    assert r["FunctionArn"] == ARN + name
    assert r["Runtime"] == "python3.12"
    assert r["Role"] == ROLE
    assert r["Handler"] == "app.handler"
    assert r["CodeSize"] == len(code)
    assert r["CodeSha256"] == sha256_b64(code)
    assert r["Timeout"] == 3
    assert r["MemorySize"] == 128
    assert r["Version"] == "$LATEST"
    assert r["State"] == "Pending"
    assert r["StateReasonCode"] == "Creating"
    assert r["PackageType"] == "Zip"
    assert r["Architectures"] == ["x86_64"]
    assert r["EphemeralStorage"] == {"Size": 512}
    assert UUID.match(r["RevisionId"]), r["RevisionId"]
    assert LAST_MODIFIED.match(r["LastModified"]), r["LastModified"]

    client.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig=FAST)

    got = client.get_function(FunctionName=name)
    assert status_of(got) == 200
    config = got["Configuration"]
    assert config["State"] == "Active"
    assert config["LastUpdateStatus"] == "Successful"
    assert config["FunctionName"] == name and config["FunctionArn"] == ARN + name
    assert config["CodeSha256"] == sha256_b64(code) and config["CodeSize"] == len(code)
    assert config["Handler"] == "app.handler" and config["Runtime"] == "python3.12"
    assert config["Role"] == ROLE and config["Version"] == "$LATEST"
    assert got["Code"]["RepositoryType"] == "S3"
    location = got["Code"]["Location"]
    assert location.startswith("file://"), location
    # The location serves the uploaded zip (decision 008).
    stored = pathlib.Path(urllib.parse.unquote(urllib.parse.urlparse(location).path))
    assert stored.read_bytes() == code

    assert client.get_function_configuration(FunctionName=name)["CodeSha256"] == sha256_b64(code)

    r = invoke(client, name, {"hello": "world"})
    assert r["StatusCode"] == 200
    assert r["ExecutedVersion"] == "$LATEST"
    assert r["Result"]["code"] == "v1"
    assert r["Result"]["functionName"] == name
    assert r["Result"]["event"] == {"hello": "world"}
    # Invoke by ARN works the same.
    assert invoke(client, ARN + name, {})["Result"]["code"] == "v1"


@pytest.mark.parametrize("runtime", ["nodejs20.x", "provided.al2023"])
def test_create_and_invoke_other_runtimes(client, runtime):
    name = unique("cp-rt")
    r = create(client, name, runtime=runtime, code_version="v1", wait=False)
    assert status_of(r) == 201
    assert r["Runtime"] == runtime
    assert r["State"] == "Pending"
    client.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig=FAST)

    r = invoke(client, name, {"n": 1})
    assert "FunctionError" not in r, r["Body"]
    assert r["Result"]["runtime"] == {"nodejs20.x": "node", "provided.al2023": "provided"}[runtime]
    assert r["Result"]["code"] == "v1"
    assert r["Result"]["functionName"] == name
    assert r["Result"]["event"] == {"n": 1}


def test_create_with_environment_and_settings(client):
    name = unique("cp-env")
    r = create(client, name, wait=False, Environment={"Variables": {"GREETING": "hello", "OTHER": "x"}},
               Timeout=7, MemorySize=512, Description="made by a test")
    assert r["Environment"] == {"Variables": {"GREETING": "hello", "OTHER": "x"}}
    assert r["Timeout"] == 7 and r["MemorySize"] == 512 and r["Description"] == "made by a test"
    client.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig=FAST)
    result = invoke(client, name, {})["Result"]
    assert result["greeting"] == "hello"
    assert str(result["memory"]) == "512"
    assert 5000 < result["remainingMs"] <= 7000


def test_get_function_of_a_template_function(client):
    got = client.get_function(FunctionName="TemplateEcho")
    assert got["Configuration"]["FunctionArn"] == ARN + "TemplateEcho"
    assert got["Configuration"]["State"] == "Active"
    assert got["Configuration"]["Runtime"] == "python3.12"
    # The digest of the code directory (computed off the event loop the first time it is shown).
    digest = got["Configuration"]["CodeSha256"]
    assert len(base64.b64decode(digest)) == 32 and got["Configuration"]["CodeSize"] > 0
    assert client.get_function_configuration(FunctionName="TemplateEcho")["CodeSha256"] == digest
    assert invoke(client, "TemplateEcho", {})["Result"]["code"] == "template"


def test_a_function_name_of_65_characters_is_not_found(client):
    name = "n" * 65
    for call, kwargs in ((client.get_function, {}), (client.get_function_configuration, {}),
                         (client.invoke, {"Payload": b"{}"})):
        err = error_of(call, FunctionName=name, **kwargs)
        assert err["Error"]["Code"] == "ResourceNotFoundException", err
        assert err["Error"]["Message"] == f"Function not found: {ARN}{name}:$LATEST"
        assert status_of(err) == 404
    # Longer than the pattern allows: still the ValidationException.
    err = error_of(client.get_function, FunctionName="n" * 257)
    assert err["Error"]["Code"] == "ValidationException", err
    assert status_of(err) == 400


def test_a_qualifier_of_129_characters_is_a_length_validation_error(client):
    qualifier = "q" * 129
    expected = (f"1 validation error detected: Value '{qualifier}' at 'qualifier' failed to satisfy constraint: "
                "Member must have length less than or equal to 128")
    for call, kwargs in ((client.get_function, {}), (client.invoke, {"Payload": b"{}"})):
        err = error_of(call, FunctionName="TemplateEcho", Qualifier=qualifier, **kwargs)
        assert err["Error"]["Code"] == "ValidationException", err
        assert err["Error"]["Message"] == expected
        assert status_of(err) == 400


# ---------------------------------------------------------------------------------------------
# 2. CreateFunction errors

def test_create_existing_function_is_a_conflict(client):
    name = unique("cp-dup")
    create(client, name)
    for existing in (name, "TemplateEcho"):
        err = error_of(create, client, existing, wait=False)
        assert err["Error"]["Code"] == "ResourceConflictException"
        assert err["Error"]["Message"] == f"Function already exist: {existing}"
        assert status_of(err) == 409
    # The original is untouched.
    assert invoke(client, name, {})["Result"]["code"] == "v1"
    assert invoke(client, "TemplateEcho", {})["Result"]["code"] == "template"


BAD_CREATES = {
    "bad-zip": ({"Code": {"ZipFile": b"this is not a zip file"}}, "InvalidParameterValueException", 400,
                lambda m: m == "Could not unzip uploaded file. Please check your file, then try to upload again."),
    "bad-role": ({"Role": "nope"}, "ValidationException", 400,
                 lambda m: "at 'role' failed to satisfy constraint" in m),
    "old-runtime": ({"Runtime": "python2.7"}, "InvalidParameterValueException", 400, lambda m: "python2.7" in m),
    "s3-code": ({"Code": {"S3Bucket": "my-bucket", "S3Key": "k"}}, "InvalidParameterValueException", 400,
                lambda m: "S3" in m),
    "no-handler": ({"Handler": None, "Runtime": "provided.al2023"}, "InvalidParameterValueException", 400,
                   lambda m: m == "Runtime and Handler are mandatory parameters for functions created with "
                                  "deployment packages."),
    "long-description": ({"Description": "d" * 257}, "ValidationException", 400,
                         lambda m: m.endswith("at 'description' failed to satisfy constraint: Member must have "
                                              "length less than or equal to 256")),
    "bad-env-key": ({"Environment": {"Variables": {"MY-KEY": "v"}}}, "ValidationException", 400,
                    lambda m: m == "1 validation error detected: Value at 'environment.variables' failed to satisfy "
                                   "constraint: Map keys must satisfy constraint: [Member must satisfy regular "
                                   "expression pattern: [a-zA-Z]([a-zA-Z0-9_])+]"),
    "bad-architecture": ({"Architectures": ["x86"]}, "ValidationException", 400,
                         lambda m: "Value '[x86]' at 'architectures' failed to satisfy constraint" in m),
    "two-architectures": ({"Architectures": ["x86_64", "arm64"]}, "ValidationException", 400,
                          lambda m: m.endswith("Member must have length less than or equal to 1")),
}


@pytest.mark.parametrize("case", sorted(BAD_CREATES))
def test_invalid_create_is_rejected_and_creates_nothing(client, case):
    overrides, code, status, message_ok = BAD_CREATES[case]
    name = unique("cp-bad")
    args = {"FunctionName": name, "Runtime": "python3.12", "Role": ROLE, "Handler": "app.handler",
            "Code": {"ZipFile": make_zip(HERE / "python", "v1")}, **overrides}
    args = {k: v for k, v in args.items() if v is not None}
    err = error_of(client.create_function, **args)
    assert err["Error"]["Code"] == code, err
    assert status_of(err) == status, err
    assert message_ok(err["Error"]["Message"]), err["Error"]["Message"]
    assert err["ResponseMetadata"]["RequestId"]
    assert_not_found(client, name)
    assert name not in all_function_names(client)


def test_error_wire_format_of_a_conflict(client, daemon):
    """Raw HTTP: a create through the plain REST path, then the conflict's wire shape (§3.5)."""
    name = unique("cp-raw")
    body = json.dumps({"FunctionName": name, "Runtime": "python3.12", "Role": ROLE, "Handler": "app.handler",
                       "Code": {"ZipFile": base64.b64encode(make_zip(HERE / "python", "v1")).decode()}}).encode()
    url = f"{daemon.endpoint}/2015-03-31/functions"
    status, headers, data = http("POST", url, body, {"Content-Type": "application/json"})
    assert status == 201, data
    created = json.loads(data)
    assert created["FunctionName"] == name and created["State"] == "Pending"
    assert headers["x-amzn-RequestId"]

    status, headers, data = http("POST", url, body, {"Content-Type": "application/json"})
    assert status == 409
    assert headers["X-Amzn-ErrorType"].split(":")[0] == "ResourceConflictException"
    assert headers["x-amzn-RequestId"]
    assert json.loads(data) == {"Type": "User", "message": f"Function already exist: {name}"}

    client.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig=FAST)
    status, _, data = http("DELETE", f"{daemon.endpoint}/2015-03-31/functions/{name}")
    assert status == 204 and data == b""


@pytest.mark.parametrize("path,body", [
    ("", {"FunctionName": 5, "Runtime": "python3.12", "Role": ROLE, "Handler": "app.handler"}),
    ("", {"FunctionName": "cp-typed", "Runtime": "python3.12", "Role": ROLE, "Handler": "app.handler",
          "Code": {"ZipFile": "UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA=="}, "Publish": "yes"}),
    ("/cp-typed/versions", {"Description": ["not", "text"]}),
], ids=["name-a-number", "publish-a-string", "description-a-list"])
def test_a_member_of_the_wrong_json_type_is_400_and_the_daemon_keeps_serving(client, daemon, path, body):
    url = f"{daemon.endpoint}/2015-03-31/functions{path}"
    status, headers, data = http("POST", url, json.dumps(body).encode(), {"Content-Type": "application/json"})
    assert status == 400, data
    assert headers["X-Amzn-ErrorType"].split(":")[0] == "InvalidRequestContentException"
    assert json.loads(data)["message"].startswith("Could not parse request body into json: "), data
    assert "Functions" in client.list_functions()  # still serving


# ---------------------------------------------------------------------------------------------
# 3. UpdateFunctionCode, UpdateFunctionConfiguration

def test_update_function_code_cold_starts_the_new_code(client):
    name = unique("cp-code")
    created = create(client, name, code_version="v1")
    first = invoke(client, name, {}, LogType="Tail")
    warm = invoke(client, name, {}, LogType="Tail")
    assert first["Result"]["code"] == warm["Result"]["code"] == "v1"
    assert "Init Duration" not in tail(warm), "the second invoke runs in the warm environment"

    v2 = make_zip(HERE / "python", "v2")
    r = client.update_function_code(FunctionName=name, ZipFile=v2)
    assert status_of(r) == 200
    assert r["LastUpdateStatus"] == "InProgress"
    assert r["State"] == "Active"
    assert r["CodeSha256"] == sha256_b64(v2) and r["CodeSize"] == len(v2)
    assert r["RevisionId"] != created["RevisionId"]
    wait_updated(client, name)

    config = client.get_function(FunctionName=name)["Configuration"]
    assert config["LastUpdateStatus"] == "Successful"
    assert config["CodeSha256"] == sha256_b64(v2)

    after = invoke(client, name, {}, LogType="Tail")
    assert after["Result"]["code"] == "v2"
    assert "Init Duration" in tail(after), "the first invoke after new code is a cold start:\n" + tail(after)
    assert invoke(client, name, {})["Result"]["code"] == "v2"


def test_update_function_configuration(client):
    name = unique("cp-config")
    create(client, name)
    assert invoke(client, name, {})["Result"]["greeting"] is None

    r = client.update_function_configuration(
        FunctionName=name, Environment={"Variables": {"GREETING": "hi"}}, Timeout=5, MemorySize=256)
    assert status_of(r) == 200
    assert r["LastUpdateStatus"] == "InProgress"
    wait_updated(client, name)

    config = client.get_function_configuration(FunctionName=name)
    assert config["Environment"] == {"Variables": {"GREETING": "hi"}}
    assert config["Timeout"] == 5
    assert config["MemorySize"] == 256
    assert config["LastUpdateStatus"] == "Successful"

    r = invoke(client, name, {}, LogType="Tail")
    assert r["Result"]["greeting"] == "hi"
    assert str(r["Result"]["memory"]) == "256"
    assert 3000 < r["Result"]["remainingMs"] <= 5000, "the function runs under the new Timeout"
    assert "Memory Size: 256 MB" in tail(r)


def test_update_with_a_stale_revision_id_is_precondition_failed(client):
    name = unique("cp-rev")
    create(client, name)
    revision = client.get_function(FunctionName=name)["Configuration"]["RevisionId"]

    for call, kwargs in ((client.update_function_configuration, {"Description": "x"}),
                         (client.update_function_code, {"ZipFile": make_zip(HERE / "python", "v2")})):
        err = error_of(call, FunctionName=name, RevisionId="wrong", **kwargs)
        assert err["Error"]["Code"] == "PreconditionFailedException", err
        assert status_of(err) == 412
    assert client.get_function(FunctionName=name)["Configuration"]["RevisionId"] == revision
    assert invoke(client, name, {})["Result"]["code"] == "v1"

    # The current revision id is accepted, and the update gets a new one.
    r = client.update_function_configuration(FunctionName=name, Description="x", RevisionId=revision)
    assert r["RevisionId"] != revision
    wait_updated(client, name)
    assert client.get_function_configuration(FunctionName=name)["Description"] == "x"


def test_template_function_configuration_can_be_changed(client):
    client.update_function_configuration(FunctionName="TemplateNodeEcho",
                                         Environment={"Variables": {"GREETING": "changed"}})
    wait_updated(client, "TemplateNodeEcho")
    r = invoke(client, "TemplateNodeEcho", {})
    assert r["Result"]["greeting"] == "changed" and r["Result"]["code"] == "template"


# ---------------------------------------------------------------------------------------------
# 4. PublishVersion, qualifiers, ListVersionsByFunction, deleting a version

def test_publish_versions_and_invoke_them(client):
    name = unique("cp-ver")
    create(client, name, code_version="v1")

    p1 = client.publish_version(FunctionName=name)
    assert status_of(p1) == 201
    assert p1["Version"] == "1"
    assert p1["FunctionArn"] == f"{ARN}{name}:1"
    client.get_waiter("published_version_active").wait(FunctionName=name, Qualifier="1", WaiterConfig=FAST)

    client.update_function_code(FunctionName=name, ZipFile=make_zip(HERE / "python", "v2"))
    wait_updated(client, name)
    p2 = client.publish_version(FunctionName=name)
    assert p2["Version"] == "2"
    again = client.publish_version(FunctionName=name)
    assert again["Version"] == "2", "publishing an unchanged $LATEST returns the latest version"
    client.get_waiter("published_version_active").wait(FunctionName=name, Qualifier="2", WaiterConfig=FAST)

    r1 = invoke(client, name, {}, Qualifier="1")
    assert r1["ExecutedVersion"] == "1"
    assert r1["Result"]["code"] == "v1" and r1["Result"]["functionVersion"] == "1"
    r2 = invoke(client, name, {}, Qualifier="2")
    assert r2["ExecutedVersion"] == "2" and r2["Result"]["code"] == "v2"
    latest = invoke(client, name, {})
    assert latest["ExecutedVersion"] == "$LATEST" and latest["Result"]["code"] == "v2"
    assert latest["Result"]["functionVersion"] == "$LATEST"
    assert invoke(client, f"{name}:1", {})["ExecutedVersion"] == "1"

    versions = client.list_versions_by_function(FunctionName=name)["Versions"]
    assert [v["Version"] for v in versions] == ["$LATEST", "1", "2"]
    assert [v["FunctionArn"] for v in versions] == [f"{ARN}{name}:$LATEST", f"{ARN}{name}:1", f"{ARN}{name}:2"]
    assert client.get_function(FunctionName=name, Qualifier="1")["Configuration"]["Version"] == "1"

    r = client.delete_function(FunctionName=name, Qualifier="1")
    assert status_of(r) == 204
    err = error_of(client.invoke, FunctionName=name, Qualifier="1", Payload=b"{}")
    assert err["Error"]["Code"] == "ResourceNotFoundException"
    assert err["Error"]["Message"] == f"Function not found: {ARN}{name}:1"
    assert status_of(err) == 404
    versions = client.list_versions_by_function(FunctionName=name)["Versions"]
    assert [v["Version"] for v in versions] == ["$LATEST", "2"]
    assert invoke(client, name, {}, Qualifier="2")["Result"]["code"] == "v2"



def test_aliases_name_published_versions(client):
    name = unique("cp-alias")
    create(client, name, code_version="v1")
    client.publish_version(FunctionName=name)
    client.update_function_code(FunctionName=name, ZipFile=make_zip(HERE / "python", "v2"))
    wait_updated(client, name)
    client.publish_version(FunctionName=name)

    created = client.create_alias(FunctionName=name, Name="live", FunctionVersion="1", Description="prod")
    assert status_of(created) == 201
    assert created["AliasArn"] == f"{ARN}{name}:live"
    assert (created["Name"], created["FunctionVersion"], created["Description"]) == ("live", "1", "prod")
    r = invoke(client, name, {}, Qualifier="live")
    assert r["ExecutedVersion"] == "1" and r["Result"]["code"] == "v1"
    assert invoke(client, f"{name}:live", {})["Result"]["code"] == "v1"

    err = error_of(client.create_alias, FunctionName=name, Name="live", FunctionVersion="2")
    assert err["Error"]["Code"] == "ResourceConflictException"
    err = error_of(client.create_alias, FunctionName=name, Name="next", FunctionVersion="9")
    assert err["Error"]["Code"] == "ResourceNotFoundException"
    err = error_of(client.delete_function, FunctionName=name, Qualifier="1")
    assert err["Error"]["Code"] == "ResourceConflictException", "a version an alias names cannot be deleted"

    stale = error_of(client.update_alias, FunctionName=name, Name="live", FunctionVersion="2", RevisionId="old")
    assert stale["Error"]["Code"] == "PreconditionFailedException"
    moved = client.update_alias(FunctionName=name, Name="live", FunctionVersion="2",
                                RevisionId=created["RevisionId"])
    assert moved["FunctionVersion"] == "2" and moved["RevisionId"] != created["RevisionId"]
    r = invoke(client, name, {}, Qualifier="live")
    assert r["ExecutedVersion"] == "2" and r["Result"]["code"] == "v2"
    assert client.get_alias(FunctionName=name, Name="live")["FunctionVersion"] == "2"
    assert [a["Name"] for a in client.list_aliases(FunctionName=name)["Aliases"]] == ["live"]
    assert client.list_aliases(FunctionName=name, FunctionVersion="1")["Aliases"] == []

    assert status_of(client.delete_alias(FunctionName=name, Name="live")) == 204
    err = error_of(client.get_alias, FunctionName=name, Name="live")
    assert err["Error"]["Code"] == "ResourceNotFoundException"
    assert err["Error"]["Message"] == f"Alias not found: {ARN}{name}:live"
    err = error_of(client.invoke, FunctionName=name, Qualifier="live", Payload=b"{}")
    assert err["Error"]["Code"] == "ResourceNotFoundException"


# ---------------------------------------------------------------------------------------------
# 5. ListFunctions

@pytest.fixture(scope="module")
def listed(client):
    """Two functions for the listing tests; the second has a published version 1."""
    names = [unique("cp-list-a"), unique("cp-list-b")]
    for name in names:
        create(client, name)
    client.publish_version(FunctionName=names[1])
    return names


def test_list_functions_contains_template_and_created_functions(client, listed):
    functions = client.list_functions()["Functions"]
    by_name = {f["FunctionName"]: f for f in functions}
    for name in (*TEMPLATE_FUNCTIONS, *listed):
        assert name in by_name, sorted(by_name)
        assert by_name[name]["FunctionArn"] == ARN + name
        assert by_name[name]["Version"] == "$LATEST"
    assert by_name[listed[0]]["Runtime"] == "python3.12"
    assert len(functions) == len(by_name), "every function once"


def test_list_functions_pages_with_marker(client, listed):
    everything = sorted(f["FunctionName"] for f in client.list_functions()["Functions"])
    seen, marker = [], None
    for _ in range(len(everything) + 5):
        page = client.list_functions(MaxItems=1, **({"Marker": marker} if marker else {}))
        assert len(page["Functions"]) == 1, page
        seen += [f["FunctionName"] for f in page["Functions"]]
        marker = page.get("NextMarker")
        if not marker:
            break
    else:
        raise AssertionError(f"paging never ended: {seen}")
    assert sorted(seen) == everything, "every function exactly once"
    assert len(seen) == len(set(seen))
    for name in (*TEMPLATE_FUNCTIONS, *listed):
        assert name in seen

    paged = []
    for page in client.get_paginator("list_functions").paginate(PaginationConfig={"PageSize": 2}):
        paged += [f["FunctionName"] for f in page["Functions"]]
    assert sorted(paged) == everything


def test_list_functions_with_all_versions(client, listed):
    functions = []
    for page in client.get_paginator("list_functions").paginate(FunctionVersion="ALL"):
        functions += page["Functions"]
    arns = [f["FunctionArn"] for f in functions]
    assert f"{ARN}{listed[1]}:$LATEST" in arns, arns
    assert f"{ARN}{listed[1]}:1" in arns, arns
    assert f"{ARN}{listed[0]}:$LATEST" in arns
    assert f"{ARN}{listed[0]}:1" not in arns
    assert len(arns) == len(set(arns))
    versions = {f["FunctionArn"]: f["Version"] for f in functions}
    assert versions[f"{ARN}{listed[1]}:1"] == "1"
    assert versions[f"{ARN}{listed[1]}:$LATEST"] == "$LATEST"


@pytest.mark.parametrize("path", ["/2015-03-31/functions", "/2015-03-31/functions/"])
def test_list_functions_over_raw_http(daemon, listed, path):
    status, headers, body = http("GET", daemon.endpoint + path)
    assert status == 200, body
    doc = json.loads(body)
    assert isinstance(doc["Functions"], list)
    names = [f["FunctionName"] for f in doc["Functions"]]
    for name in (*TEMPLATE_FUNCTIONS, *listed):
        assert name in names


def test_list_functions_entries_leave_out_state(client, listed):
    """ListFunctions, unlike GetFunctionConfiguration, shows no State or LastUpdateStatus.
    (LoggingConfig, which the entries have, is newer than this botocore: js/control_plane.test.mjs.)"""
    for version in ({}, {"FunctionVersion": "ALL"}):
        functions = client.list_functions(**version)["Functions"]
        assert functions
        for f in functions:
            for key in ("State", "StateReason", "StateReasonCode", "LastUpdateStatus",
                        "LastUpdateStatusReason", "LastUpdateStatusReasonCode"):
                assert key not in f, (key, f)
    config = client.get_function_configuration(FunctionName=listed[0])
    assert config["State"] == "Active" and config["LastUpdateStatus"] == "Successful"


def test_list_functions_with_an_unknown_function_version_is_a_validation_error(client, daemon, cli_env):
    err = error_of(client.list_functions, FunctionVersion="invalid")
    assert err["Error"]["Code"] == "ValidationException", err
    assert err["Error"]["Message"] == (
        "1 validation error detected: Value 'invalid' at 'functionVersion' failed to satisfy constraint: "
        "Member must satisfy enum value set: [ALL]")
    assert status_of(err) == 400
    proc = subprocess.run([AWS, "lambda", "list-functions", "--function-version", "invalid",
                           "--endpoint-url", daemon.endpoint, "--output", "json"],
                          env=cli_env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 254, (proc.returncode, proc.stdout, proc.stderr)
    assert "(ValidationException)" in proc.stderr and "[ALL]" in proc.stderr, proc.stderr


# ---------------------------------------------------------------------------------------------
# 6. DeleteFunction

def test_delete_function(client):
    name = unique("cp-del")
    create(client, name)
    invoke(client, name, {})  # a running environment must not keep it alive
    r = client.delete_function(FunctionName=name)
    assert status_of(r) == 204

    assert_not_found(client, name)
    err = error_of(client.invoke, FunctionName=name, Payload=b"{}")
    assert err["Error"]["Code"] == "ResourceNotFoundException"
    assert err["Error"]["Message"] == f"Function not found: {ARN}{name}:$LATEST"
    assert status_of(err) == 404
    assert name not in all_function_names(client)
    err = error_of(client.delete_function, FunctionName=name)
    assert err["Error"]["Code"] == "ResourceNotFoundException"
    # The name can be used again.
    create(client, name, code_version="v2")
    assert invoke(client, name, {})["Result"]["code"] == "v2"


# ---------------------------------------------------------------------------------------------
# 7. Reserved concurrency

def assert_throttled(err):
    assert err["Error"]["Code"] == "TooManyRequestsException", err
    assert err.get("Reason") == "ReservedFunctionConcurrentInvocationLimitExceeded", err
    assert status_of(err) == 429


def test_reserved_concurrency_zero_throttles_until_deleted(client):
    name = unique("cp-conc0")
    create(client, name)
    r = client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    assert status_of(r) == 200
    assert r["ReservedConcurrentExecutions"] == 0

    assert_throttled(error_of(client.invoke, FunctionName=name, Payload=b"{}"))
    assert client.get_function_concurrency(FunctionName=name)["ReservedConcurrentExecutions"] == 0
    assert client.get_function(FunctionName=name)["Concurrency"] == {"ReservedConcurrentExecutions": 0}

    r = client.delete_function_concurrency(FunctionName=name)
    assert status_of(r) == 204
    assert "ReservedConcurrentExecutions" not in client.get_function_concurrency(FunctionName=name)
    assert invoke(client, name, {})["Result"]["code"] == "v1"


def test_reserved_concurrency_one_admits_one_invoke_at_a_time(client, daemon):
    name = unique("cp-conc1")
    create(client, name, handler="app.sleep", Timeout=30)
    client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)
    assert invoke(client, name, {"sleep": 0})["Result"]["slept"] == 0

    def busy():
        _, _, data = http("GET", f"{daemon.endpoint}/_lambdad/status")
        return [e for f in json.loads(data)["functions"] if f["name"] == name
                for e in f["environments"] if e["state"] == "busy"]

    # The second invoke is sent once the first is running (not raced against it): it is throttled
    # however slow the machine.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        first = pool.submit(invoke, client, name, {"sleep": 3})
        wait_for(lambda: busy() or first.done(), timeout=20, what="the first invoke to run")
        assert not first.done(), first.result()
        assert_throttled(error_of(invoke, client, name, {"sleep": 0}))
        assert first.result(timeout=30)["Result"]["slept"] == 3
    # Free again afterwards.
    assert invoke(client, name, {"sleep": 0})["StatusCode"] == 200


def test_reserving_too_much_is_rejected(client):
    name = unique("cp-conc-big")
    create(client, name)
    err = error_of(client.put_function_concurrency, FunctionName=name, ReservedConcurrentExecutions=950)
    assert err["Error"]["Code"] == "InvalidParameterValueException", err
    assert status_of(err) == 400
    assert err["Error"]["Message"].startswith(
        "Specified ReservedConcurrentExecutions for function decreases account's "
        "UnreservedConcurrentExecution below its minimum value of [100]"), err["Error"]["Message"]
    assert "ReservedConcurrentExecutions" not in client.get_function_concurrency(FunctionName=name)
    assert invoke(client, name, {})["StatusCode"] == 200


def test_reserved_concurrency_of_a_version_or_alias_is_refused(client):
    name = unique("cp-conc-q")
    create(client, name)
    client.publish_version(FunctionName=name)
    client.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    message = ("This operation is permitted on Lambda functions only. Aliases and versions do not support this "
               "operation. Please specify either a function name or an unqualified function ARN.")
    for qualified in (f"{name}:1", f"{name}:live", f"{ARN}{name}:1", f"{ARN}{name}:$LATEST"):
        for call, kwargs in ((client.put_function_concurrency, {"ReservedConcurrentExecutions": 1}),
                             (client.get_function_concurrency, {}),
                             (client.delete_function_concurrency, {})):
            err = error_of(call, FunctionName=qualified, **kwargs)
            assert err["Error"]["Code"] == "InvalidParameterValueException", (qualified, call, err)
            assert err["Error"]["Message"] == message
            assert status_of(err) == 400
    assert "ReservedConcurrentExecutions" not in client.get_function_concurrency(FunctionName=name)
    assert client.put_function_concurrency(FunctionName=ARN + name,
                                           ReservedConcurrentExecutions=1)["ReservedConcurrentExecutions"] == 1
    client.delete_function_concurrency(FunctionName=name)


# ---------------------------------------------------------------------------------------------
# 8. GetAccountSettings

def test_account_settings_follow_functions_and_reservations(client):
    def reserved_sum():
        return sum(client.get_function_concurrency(FunctionName=n).get("ReservedConcurrentExecutions", 0)
                   for n in all_function_names(client))

    settings = client.get_account_settings()
    limit, usage = settings["AccountLimit"], settings["AccountUsage"]
    assert limit["ConcurrentExecutions"] == 1000
    assert limit["CodeSizeUnzipped"] == 262144000
    assert limit["CodeSizeZipped"] == 52428800
    assert limit["UnreservedConcurrentExecutions"] == 1000 - reserved_sum()
    assert usage["FunctionCount"] == len(all_function_names(client))
    count, unreserved = usage["FunctionCount"], limit["UnreservedConcurrentExecutions"]

    name = unique("cp-account")
    create(client, name)
    assert client.get_account_settings()["AccountUsage"]["FunctionCount"] == count + 1

    client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=7)
    after = client.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"]
    assert after == unreserved - 7
    assert after == 1000 - reserved_sum()

    client.delete_function(FunctionName=name)
    settings = client.get_account_settings()
    assert settings["AccountUsage"]["FunctionCount"] == count
    assert settings["AccountLimit"]["UnreservedConcurrentExecutions"] == unreserved


# ---------------------------------------------------------------------------------------------
# 9. Event invoke configuration and destinations

def test_event_invoke_config_routes_failures_to_the_destination(client, host):
    records_file = host / f"{unique('records')}.jsonl"
    runs_file = host / f"{unique('runs')}.txt"
    recorder, failing = unique("cp-recorder"), unique("cp-failing")
    create(client, recorder, handler="app.record")  # records to requestPayload.record_file
    create(client, failing, handler="app.fail")  # logs its runs to event.run_file

    destination = {"OnFailure": {"Destination": ARN + recorder}}
    r = client.put_function_event_invoke_config(FunctionName=failing, MaximumRetryAttempts=0,
                                                DestinationConfig=destination)
    assert status_of(r) == 200
    assert r["MaximumRetryAttempts"] == 0
    assert r["DestinationConfig"]["OnFailure"] == destination["OnFailure"]
    assert r["FunctionArn"] == f"{ARN}{failing}:$LATEST"

    got = client.get_function_event_invoke_config(FunctionName=failing)
    assert got["MaximumRetryAttempts"] == 0
    assert got["DestinationConfig"]["OnFailure"] == destination["OnFailure"]
    assert got["FunctionArn"] == r["FunctionArn"]

    event = {"order": 42, "record_file": str(records_file), "run_file": str(runs_file)}
    sent = client.invoke(FunctionName=failing, InvocationType="Event", Payload=json.dumps(event))
    assert sent["StatusCode"] == 202
    request_id = sent["ResponseMetadata"]["RequestId"]

    records = wait_for(lambda: json_lines(records_file), what="the OnFailure record")
    record = records[0]["event"]
    assert record["requestContext"] == {"requestId": request_id, "functionArn": f"{ARN}{failing}:$LATEST",
                                        "condition": "RetriesExhausted", "approximateInvokeCount": 1}
    assert record["requestPayload"] == event
    assert record["responseContext"]["functionError"] == "Unhandled"
    assert record["responsePayload"]["errorType"] == "ValueError"
    time.sleep(0.3)  # MaximumRetryAttempts 0: no second run, no second record
    assert runs_file.read_text().split() == [request_id]
    assert len(json_lines(records_file)) == 1


def test_event_invoke_config_of_a_function_without_one_is_not_found(client):
    name = unique("cp-noeic")
    create(client, name)
    err = error_of(client.get_function_event_invoke_config, FunctionName=name)
    assert err["Error"]["Code"] == "ResourceNotFoundException", err
    assert status_of(err) == 404


# ---------------------------------------------------------------------------------------------
# 10. InvokeAsync (deprecated, still used)

def test_invoke_async_runs_the_function(client, host):
    records_file = host / f"{unique('async')}.jsonl"
    name = unique("cp-invoke-async")
    create(client, name, handler="app.record")
    event = {"k": 1, "record_file": str(records_file)}
    r = client.invoke_async(FunctionName=name, InvokeArgs=json.dumps(event).encode())
    assert r["Status"] == 202
    assert status_of(r) == 202
    records = wait_for(lambda: json_lines(records_file), what="the function to run")
    assert records[0]["event"] == event


# ---------------------------------------------------------------------------------------------
# 11. Persistence across restarts

def test_created_functions_and_versions_survive_a_restart(start_daemon):
    state = pathlib.Path(tempfile.mkdtemp(prefix="lambdad-e2e-cp-state-"))
    try:
        name = unique("cp-persist")
        v1, v2 = make_zip(HERE / "python", "v1"), make_zip(HERE / "python", "v2")

        first = start_daemon(TEMPLATE, "--state-dir", str(state))
        c = lambda_client(first.endpoint)
        create(c, name, code_version="v1")
        assert c.publish_version(FunctionName=name)["Version"] == "1"
        c.update_function_code(FunctionName=name, ZipFile=v2)
        wait_updated(c, name)
        problems = first.stop_and_check()
        assert not problems, "\n".join(problems)

        second = start_daemon(TEMPLATE, "--state-dir", str(state))
        c = lambda_client(second.endpoint)
        assert name in all_function_names(c)
        c.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig=FAST)
        config = c.get_function(FunctionName=name)["Configuration"]
        assert config["State"] == "Active"
        assert config["CodeSha256"] == sha256_b64(v2)
        assert c.get_function(FunctionName=name, Qualifier="1")["Configuration"]["CodeSha256"] == sha256_b64(v1)
        assert [v["Version"] for v in c.list_versions_by_function(FunctionName=name)["Versions"]] == ["$LATEST", "1"]
        latest = invoke(c, name, {})
        assert latest["ExecutedVersion"] == "$LATEST" and latest["Result"]["code"] == "v2"
        one = invoke(c, name, {}, Qualifier="1")
        assert one["ExecutedVersion"] == "1" and one["Result"]["code"] == "v1"
        for template_function in TEMPLATE_FUNCTIONS:
            assert template_function in all_function_names(c)
        assert c.delete_function(FunctionName=name)["ResponseMetadata"]["HTTPStatusCode"] == 204
        problems = second.stop_and_check()
        assert not problems, "\n".join(problems)

        third = start_daemon(TEMPLATE, "--state-dir", str(state))
        c = lambda_client(third.endpoint)
        assert_not_found(c, name)
        assert name not in all_function_names(c)
        err = error_of(c.invoke, FunctionName=name, Qualifier="1", Payload=b"{}")
        assert err["Error"]["Code"] == "ResourceNotFoundException"
        problems = third.stop_and_check()
        assert not problems, "\n".join(problems)
    finally:
        shutil.rmtree(state, ignore_errors=True)


def test_an_alias_revision_id_matches_after_a_restart(start_daemon):
    state = pathlib.Path(tempfile.mkdtemp(prefix="lambdad-e2e-cp-state-"))
    try:
        name = unique("cp-alias-rev")
        first = start_daemon(TEMPLATE, "--state-dir", str(state))
        c = lambda_client(first.endpoint)
        create(c, name)
        c.publish_version(FunctionName=name)
        revision = c.create_alias(FunctionName=name, Name="live", FunctionVersion="1")["RevisionId"]
        err = error_of(c.update_alias, FunctionName=name, Name="live", FunctionVersion="abc")
        assert err["Error"]["Code"] == "ValidationException" and status_of(err) == 400, err
        problems = first.stop_and_check()
        assert not problems, "\n".join(problems)

        second = start_daemon(TEMPLATE, "--state-dir", str(state))
        c = lambda_client(second.endpoint)
        assert c.get_alias(FunctionName=name, Name="live")["RevisionId"] == revision
        updated = c.update_alias(FunctionName=name, Name="live", Description="after", RevisionId=revision)
        assert updated["Description"] == "after"
        problems = second.stop_and_check()
        assert not problems, "\n".join(problems)
    finally:
        shutil.rmtree(state, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# 12. AWS CLI v2

def test_aws_cli_function_lifecycle(daemon, cli_env, tmp_path):
    name = unique("cp-cli")
    (tmp_path / "v1.zip").write_bytes(make_zip(HERE / "python", "v1"))
    (tmp_path / "v2.zip").write_bytes(make_zip(HERE / "python", "v2"))

    def aws(*args):
        cmd = [AWS, "lambda", *args, "--endpoint-url", daemon.endpoint, "--output", "json",
               "--cli-connect-timeout", "5", "--cli-read-timeout", "60"]
        return subprocess.run(cmd, env=cli_env, capture_output=True, text=True, timeout=180)

    def ok(proc):
        assert proc.returncode == 0, f"aws exited {proc.returncode}\nstdout:{proc.stdout}\nstderr:{proc.stderr}"
        return json.loads(proc.stdout) if proc.stdout.strip() else None

    def cli_invoke():
        out = tmp_path / f"out-{uuid.uuid4().hex}.json"
        meta = ok(aws("invoke", "--function-name", name, "--cli-binary-format", "raw-in-base64-out",
                      "--payload", '{"via": "cli"}', str(out)))
        assert meta["StatusCode"] == 200 and "FunctionError" not in meta, meta
        return json.loads(out.read_bytes())

    created = ok(aws("create-function", "--function-name", name, "--runtime", "python3.12",
                     "--role", ROLE, "--handler", "app.handler", "--zip-file", f"fileb://{tmp_path / 'v1.zip'}"))
    assert created["FunctionArn"] == ARN + name
    assert created["CodeSha256"] == sha256_b64((tmp_path / "v1.zip").read_bytes())
    ok(aws("wait", "function-active-v2", "--function-name", name))
    result = cli_invoke()
    assert result["code"] == "v1" and result["event"] == {"via": "cli"}

    updated = ok(aws("update-function-code", "--function-name", name,
                     "--zip-file", f"fileb://{tmp_path / 'v2.zip'}"))
    assert updated["CodeSha256"] == sha256_b64((tmp_path / "v2.zip").read_bytes())
    ok(aws("wait", "function-updated-v2", "--function-name", name))
    assert cli_invoke()["code"] == "v2"

    ok(aws("delete-function", "--function-name", name))
    proc = aws("get-function", "--function-name", name)
    assert proc.returncode == 254, (proc.returncode, proc.stdout, proc.stderr)
    assert "ResourceNotFoundException" in proc.stderr
