"""X-Ray as Lambda does it: the tracing mode of the template, the trace header each invocation
runs with, and the local X-Ray daemon receiving what the X-Ray SDK sends, here from a Node
function traced with @aws-lambda-powertools/tracer (aws-xray-sdk-core), invoked with boto3.
"""
import io
import json
import re
import shutil
import urllib.request
import zipfile

import pytest

from conftest import FUNCTIONS, REPO, copy_node_packages, invoke, lambda_client, wait_for

SOURCE = FUNCTIONS / "xray"
NODE_MODULES = REPO / "node_modules"
TRACER = "@aws-lambda-powertools/tracer"
TRACE = re.compile(r"^Root=(1-[0-9a-f]{8}-[0-9a-f]{24});Parent=([0-9a-f]{16});Sampled=([01])$")
ROLE = "arn:aws:iam::123456789012:role/lambda-role"




@pytest.fixture
def code_dir(host_dir):
    """The function's code directory: index.js and, in its own node_modules, copies of the
    tracer's packages (a deployed function ships its dependencies)."""
    if not (NODE_MODULES / TRACER / "package.json").is_file():
        pytest.fail(f"{TRACER} is not installed at {NODE_MODULES}; run `npm ci` in {REPO}")
    code = host_dir / "code"
    (code / "node_modules").mkdir(parents=True)
    shutil.copy(SOURCE / "index.js", code / "index.js")
    copy_node_packages(TRACER, code)
    template = host_dir / "template.yaml"
    template.write_text((SOURCE / "template.yaml").read_text().replace("CODE_DIR", str(code)))
    return template


@pytest.fixture
def daemon(start_daemon, code_dir):
    return start_daemon(code_dir)


def segments(daemon, trace_id=""):
    url = f"{daemon.endpoint}/_lambdad/xray/segments" + (f"?traceId={trace_id}" if trace_id else "")
    with urllib.request.urlopen(url, timeout=10) as r:
        assert r.headers["Content-Type"] == "application/json"
        return json.load(r)


def invoke_with_trace(client, name, header):
    """Invoke with the caller's X-Amzn-Trace-Id, as an instrumented caller sends it."""
    def add_header(request, **_):
        request.headers["X-Amzn-Trace-Id"] = header
    client.meta.events.register("before-sign.lambda.Invoke", add_header)
    try:
        return invoke(client, name, {"n": 2})
    finally:
        client.meta.events.unregister("before-sign.lambda.Invoke", add_header)


def test_active_function_sends_its_tracer_segments_to_the_local_daemon(daemon):
    client = lambda_client(daemon.endpoint)
    r = invoke(client, "Traced", {"n": 1})
    assert r["StatusCode"] == 200
    assert "FunctionError" not in r, r["Body"]
    result = json.loads(r["Body"])
    m = TRACE.match(result["traceHeader"])
    assert m, result["traceHeader"]
    root, parent, sampled = m.groups()
    assert sampled == "1", "Active tracing samples an invocation without a caller's decision"
    assert r["ResponseMetadata"]["HTTPHeaders"]["x-amzn-trace-id"] == result["traceHeader"]
    assert result["tracingEnabled"] is True
    assert result["traceId"] == root
    port = int(result["daemonPort"])
    assert result["daemonAddress"] == f"127.0.0.1:{port}"
    assert result["daemonHost"] == "127.0.0.1"
    assert result["contextMissing"] == "LOG_ERROR"

    kept = wait_for(lambda: [s for s in segments(daemon, root)["segments"] if s["name"] == "## index.handler"],
                    timeout=10, what="the handler subsegment at the local X-Ray daemon")
    handler = kept[0]
    assert handler["function"] == "Traced"
    assert handler["traceId"] == root
    assert handler["type"] == "subsegment"
    doc = handler["document"]
    assert doc["trace_id"] == root
    assert doc["parent_id"] == parent, "the SDK hangs its subsegments under the Parent Lambda gave it"
    assert doc["annotations"]["ColdStart"] is True
    assert doc["annotations"]["Service"] == "orders"
    assert doc["metadata"]["orders"]["index.handler response"]["traceId"] == root
    # In Lambda the SDK streams each subsegment when it closes: the nested one came on its own.
    work = [s["document"] for s in segments(daemon, root)["segments"] if s["name"] == "### work"]
    assert len(work) == 1
    assert work[0]["parent_id"] == doc["id"]
    assert work[0]["annotations"] == {"n": 1}
    daemon.wait_for_log(rf"\[Traced\] X-Ray subsegment ## index\.handler trace {root} \(0 subsegments\)")
    daemon.wait_for_log(rf"\[Traced\] X-Ray subsegment ### work trace {root}")

    # A second invocation is a new trace, warm.
    again = json.loads(invoke(client, "Traced", {"n": 3})["Body"])
    root2 = TRACE.match(again["traceHeader"]).group(1)
    assert root2 != root
    doc2 = wait_for(lambda: [s for s in segments(daemon, root2)["segments"] if s["name"] == "## index.handler"],
                    timeout=10, what="the second trace")[0]["document"]
    assert doc2["annotations"]["ColdStart"] is False

    # Two subsegments per invocation, and none for the runtime's own Runtime API calls (the tracer
    # captures node:http; on Lambda the runtime's client is not traced).
    status = segments(daemon)
    assert sorted(s["name"] for s in status["segments"]) == ["## index.handler", "## index.handler",
                                                              "### work", "### work"], status
    assert status["received"] == 4
    assert status["malformed"] == 0
    log = daemon.logs()
    assert "Missing AWS Lambda trace data" not in log, log
    assert "ERROR" not in log and "Error" not in log, log


def test_passthrough_function_is_not_sampled_unless_its_caller_says_so(daemon):
    client = lambda_client(daemon.endpoint)
    unsampled = json.loads(invoke(client, "Untraced", {"n": 1})["Body"])
    m = TRACE.match(unsampled["traceHeader"])
    assert m and m.group(3) == "0", unsampled["traceHeader"]
    assert unsampled["tracingEnabled"] is True  # the SDK is on; the trace is not sampled

    # A caller's sampled trace is continued: same Root and Parent, and the SDK records it.
    caller = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
    r = invoke_with_trace(client, "Untraced", caller)
    assert "FunctionError" not in r, r["Body"]
    assert json.loads(r["Body"])["traceHeader"] == caller
    kept = wait_for(lambda: [s for s in segments(daemon, "1-5759e988-bd862e3fe1be46a994272793")["segments"]
                             if s["name"] == "## index.handler"], timeout=10, what="the caller's trace")
    assert kept[0]["function"] == "Untraced"
    assert kept[0]["document"]["parent_id"] == "53995c3f42cd8ad8"
    # The unsampled invocation sent nothing (its datagram would have arrived first).
    assert segments(daemon, m.group(1))["segments"] == []
    assert "Missing AWS Lambda trace data" not in daemon.logs()


def test_active_function_keeps_a_callers_decision(daemon):
    client = lambda_client(daemon.endpoint)
    caller = "Root=1-5759e988-00000000000000000000aaaa;Parent=53995c3f42cd8ad8;Sampled=0"
    assert json.loads(invoke_with_trace(client, "Traced", caller)["Body"])["traceHeader"] == caller
    # Without a decision ("Sampled=?"), Active samples; the caller's Lineage is kept.
    undecided = "Root=1-5759e988-00000000000000000000bbbb;Parent=53995c3f42cd8ad8;Sampled=?;Lineage=a87bd80c:0"
    header = json.loads(invoke_with_trace(client, "Traced", undecided)["Body"])["traceHeader"]
    assert header == "Root=1-5759e988-00000000000000000000bbbb;Parent=53995c3f42cd8ad8;Sampled=1;Lineage=a87bd80c:0"
    wait_for(lambda: segments(daemon, "1-5759e988-00000000000000000000bbbb")["segments"], timeout=10,
             what="the sampled trace")
    assert segments(daemon, "1-5759e988-00000000000000000000aaaa")["segments"] == []


def test_configuration_reports_the_tracing_mode(daemon):
    client = lambda_client(daemon.endpoint)
    assert client.get_function_configuration(FunctionName="Traced")["TracingConfig"] == {"Mode": "Active"}
    assert client.get_function_configuration(FunctionName="Untraced")["TracingConfig"] == {"Mode": "PassThrough"}

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("index.js", "exports.handler = async () => process.env._X_AMZN_TRACE_ID;\n")
    created = client.create_function(FunctionName="Created", Runtime="nodejs20.x", Role=ROLE, Handler="index.handler",
                                     Code={"ZipFile": buf.getvalue()}, TracingConfig={"Mode": "Active"})
    assert created["TracingConfig"] == {"Mode": "Active"}
    client.get_waiter("function_active_v2").wait(FunctionName="Created", WaiterConfig={"Delay": 1})
    header = json.loads(invoke(client, "Created")["Body"])
    assert TRACE.match(header).group(3) == "1", header

    with pytest.raises(client.exceptions.ClientError) as e:
        client.update_function_configuration(FunctionName="Created", TracingConfig={"Mode": "Sometimes"})
    assert e.value.response["Error"]["Code"] == "ValidationException"
    assert "Member must satisfy enum value set: [Active, PassThrough]" in e.value.response["Error"]["Message"]
    updated = client.update_function_configuration(FunctionName="Created", TracingConfig={"Mode": "PassThrough"})
    assert updated["TracingConfig"] == {"Mode": "PassThrough"}
    client.get_waiter("function_updated_v2").wait(FunctionName="Created", WaiterConfig={"Delay": 1})
    header = json.loads(invoke(client, "Created")["Body"])
    assert TRACE.match(header).group(3) == "0", header
