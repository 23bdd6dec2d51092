"""Tenant isolation (lambda-spec §12) through boto3: a PER_TENANT function's environments each
serve one tenant (A, B, A: A's second call is warm in A's environment, B's is cold in its own);
an invoke without a tenant id, or with one on a plain function, is refused with Lambda's error;
GetFunctionConfiguration shows TenancyConfig; /_lambdad/status shows the tenants. The apt boto3
predates the TenantId parameter, so the test sends X-Amz-Tenant-Id itself, before signing, as a
newer boto3 does."""
import base64
import json
import subprocess
import urllib.request

import pytest
from botocore.exceptions import ClientError

from conftest import FUNCTIONS, LAMBDAD, invoke, lambda_client

TEMPLATE = FUNCTIONS / "tenancy" / "template.yaml"


def invoke_as(client, name, tenant):
    def add_header(request, **_):
        request.headers["X-Amz-Tenant-Id"] = tenant
    client.meta.events.register("before-sign.lambda.Invoke", add_header)
    try:
        return json.loads(invoke(client, name, {})["Body"])
    finally:
        client.meta.events.unregister("before-sign.lambda.Invoke", add_header)


@pytest.fixture
def daemon(start_daemon):
    return start_daemon(TEMPLATE)


def test_environments_serve_one_tenant_each(daemon):
    client = lambda_client(daemon.endpoint)
    a1 = invoke_as(client, "PyTenants", "tenant-a")
    b1 = invoke_as(client, "PyTenants", "tenant-b")
    a2 = invoke_as(client, "PyTenants", "tenant-a")
    assert a1["tenant"] == "tenant-a" and b1["tenant"] == "tenant-b" and a2["tenant"] == "tenant-a"
    assert a2["pid"] == a1["pid"], "A's second call is warm, in A's environment"
    assert b1["pid"] != a1["pid"], "B gets an environment of its own"
    assert a2["seen"] == ["tenant-a", "tenant-a"]
    assert b1["seen"] == ["tenant-b"]
    with urllib.request.urlopen(f"{daemon.endpoint}/_lambdad/status", timeout=10) as r:
        status = json.load(r)
    [fn] = [f for f in status["functions"] if f["name"] == "PyTenants"]
    assert fn["tenantIsolation"] == "PER_TENANT"
    assert fn["tenants"] == ["tenant-a", "tenant-b"]
    # The apt botocore's model has no TenancyConfig yet: read the configuration's JSON itself.
    with urllib.request.urlopen(f"{daemon.endpoint}/2015-03-31/functions/PyTenants/configuration", timeout=10) as r:
        assert json.load(r)["TenancyConfig"] == {"TenantIsolationMode": "PER_TENANT"}


def test_json_logs_carry_the_tenant(daemon):
    client = lambda_client(daemon.endpoint)

    def add_header(request, **_):
        request.headers["X-Amz-Tenant-Id"] = "tenant-j"
    client.meta.events.register("before-sign.lambda.Invoke", add_header)
    r = invoke(client, "PyTenantsJson", {}, LogType="Tail")
    request_id = r["ResponseMetadata"]["RequestId"]
    records = [json.loads(line) for line in base64.b64decode(r["LogResult"]).decode().splitlines()]
    by_type = {rec.get("type", "app"): rec for rec in records}
    assert by_type["platform.start"]["record"] == {"requestId": request_id, "version": "$LATEST", "tenantId": "tenant-j"}
    report = by_type["platform.report"]["record"]
    assert report["tenantId"] == "tenant-j" and report["requestId"] == request_id
    assert "initDurationMs" in report["metrics"], "a cold start"
    assert by_type["app"]["message"] == "serving tenant-j" and by_type["app"]["tenantId"] == "tenant-j"


def test_a_tenant_must_match_the_functions_tenancy(daemon):
    client = lambda_client(daemon.endpoint)
    with pytest.raises(ClientError) as missing:
        invoke(client, "PyTenants", {})
    err = missing.value.response
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert err["Error"]["Code"] == "InvalidParameterValueException"
    assert err["Error"]["Message"] == ("The invoked function is enabled with tenancy configuration. Add a valid "
                                       "tenant ID in your request and try again.")
    with pytest.raises(ClientError) as extra:
        invoke_as(client, "Plain", "tenant-a")
    err = extra.value.response
    assert err["Error"]["Code"] == "InvalidParameterValueException"
    assert err["Error"]["Message"] == ("The invoked function is not enabled with tenancy configuration. Remove the "
                                       "tenant ID from your request and try again.")
    with pytest.raises(ClientError) as bad:
        invoke_as(client, "PyTenants", "no#hash")
    assert bad.value.response["Error"]["Code"] == "ValidationException"
    assert invoke(client, "Plain", {})["StatusCode"] == 200


def test_lambdad_invoke_takes_a_tenant_id():
    def run(*args):
        return subprocess.run([LAMBDAD, "invoke", "PyTenants", "--template", str(TEMPLATE), "--log-level", "warn", *args],
                              capture_output=True, text=True, timeout=60)
    ok = run("--tenant-id", "tenant-c")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["tenant"] == "tenant-c"
    missing = run()
    assert missing.returncode == 2
    assert "enabled with tenancy configuration" in missing.stderr
