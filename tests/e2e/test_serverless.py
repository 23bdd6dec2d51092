"""serverless.yml: the same functions described by a serverless.yml and by a SAM template give
the same results, through `lambdad invoke` and through `lambdad serve` with boto3."""
import json
import subprocess

import pytest

from conftest import LAMBDAD, REPO, Daemon, invoke, lambda_client

EQUIVALENT = REPO / "tests" / "unit" / "config" / "templates" / "serverless" / "equivalent"
SOURCES = {"sam": ["--template", str(EQUIVALENT / "template.yaml")],
           "serverless": ["--serverless", str(EQUIVALENT / "serverless.yml")]}


@pytest.mark.parametrize("function", ["equivalent-py", "equivalent-node"])
def test_both_descriptions_give_the_same_results(function):
    results = {}
    for source, args in SOURCES.items():
        r = subprocess.run([LAMBDAD, "invoke", function, *args, "--log-level", "off"],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        results[source] = json.loads(r.stdout)
    assert results["sam"] == results["serverless"]
    assert results["sam"]["greeting"] == "hello", "provider.environment reaches the handler"


def test_serve_reads_a_serverless_yml():
    d = Daemon(EQUIVALENT / "template.yaml", "--serverless", str(EQUIVALENT / "serverless.yml"))
    try:
        client = lambda_client(d.endpoint)
        r = invoke(client, "equivalent-node", {})
        assert r["StatusCode"] == 200
        assert json.loads(r["Body"]) == {"ok": True, "from": "node", "greeting": "hello"}
        config = client.get_function_configuration(FunctionName="equivalent-node")
        assert (config["MemorySize"], config["Timeout"]) == (512, 10)
        assert config["Environment"]["Variables"] == {"GREETING": "hello", "FROM": "node"}
    finally:
        assert not d.stop_and_check()


def test_stage_and_env_variables_are_resolved(tmp_path):
    (tmp_path / "app.py").write_text("import os\ndef handler(e, c):\n    return {'stage': os.environ['STAGE'], "
                                     "'secret': os.environ['SECRET'], 'name': c.function_name}\n")
    (tmp_path / "serverless.yml").write_text(
        "service: vars\nprovider:\n  name: aws\n  runtime: python3.12\n  environment:\n"
        "    STAGE: ${opt:stage}\n    SECRET: ${env:LAMBDAD_TEST_SECRET, 'none'}\n"
        "functions:\n  hello:\n    handler: app.handler\n")
    r = subprocess.run([LAMBDAD, "invoke", "vars-prod-hello", "--serverless", str(tmp_path / "serverless.yml"),
                        "--stage", "prod", "--log-level", "off"],
                       capture_output=True, text=True, timeout=60,
                       env={"PATH": "/usr/bin:/bin", "LAMBDAD_TEST_SECRET": "s3cr3t"})
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"stage": "prod", "secret": "s3cr3t", "name": "vars-prod-hello"}


def test_serve_invokes_by_short_name_and_framework_logical_id(tmp_path, start_daemon):
    (tmp_path / "app.py").write_text("def handler(e, c):\n    return {'name': c.function_name, 'arn': c.invoked_function_arn}\n")
    sls = tmp_path / "serverless.yml"
    sls.write_text("service: shop\nprovider:\n  name: aws\n  runtime: python3.12\n  stage: prod\n"
                   "functions:\n  orders:\n    handler: app.handler\n  send-mail:\n    handler: app.handler\n")
    d = start_daemon(sls, "--serverless", str(sls))
    client = lambda_client(d.endpoint)
    for name, deployed in (("orders", "shop-prod-orders"), ("OrdersLambdaFunction", "shop-prod-orders"),
                           ("shop-prod-orders", "shop-prod-orders"), ("send-mail", "shop-prod-send-mail"),
                           ("SendDashmailLambdaFunction", "shop-prod-send-mail")):
        r = invoke(client, name, {})
        assert r["StatusCode"] == 200, name
        assert json.loads(r["Body"]) == {
            "name": deployed, "arn": f"arn:aws:lambda:us-east-1:123456789012:function:{deployed}"}, name
    d.wait_for_log(r"function OrdersLambdaFunction \(shop-prod-orders, short: orders\): python3\.12, 1024 MB, 6 s")
    # `lambdad invoke` and `lambdad test` take the same names.
    p = subprocess.run([LAMBDAD, "invoke", "send-mail", "--serverless", str(sls), "--log-level", "off"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["name"] == "shop-prod-send-mail"
