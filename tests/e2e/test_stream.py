"""InvokeWithResponseStream through boto3 (botocore's event-stream parser checks every prelude and
message CRC), plus the raw wire: status, headers and framing of the response."""
import json
import time
import urllib.request

from botocore.eventstream import EventStreamBuffer

from conftest import FUNCTIONS

TEMPLATE = FUNCTIONS / "stream" / "template.yaml"

# Debian's boto3 predates invoke_with_response_stream, so these tests speak HTTP themselves and
# decode with botocore's event-stream parser, which checks every prelude and message CRC.


def post(endpoint, name, event, headers=None):
    req = urllib.request.Request(f"{endpoint}/2021-11-15/functions/{name}/response-streaming-invocations",
                                 data=json.dumps(event).encode(), method="POST", headers=headers or {})
    return urllib.request.urlopen(req, timeout=30)


def read_events(resp):
    """[(arrival ms, event type, payload bytes)] as the frames arrive."""
    buf = EventStreamBuffer()
    events = []
    while True:
        data = resp.read1(65536)
        if not data:
            return events
        buf.add_data(data)
        for msg in buf:
            assert msg.headers[":message-type"] == "event"
            events.append((time.time() * 1000, msg.headers[":event-type"], msg.payload))


def test_chunks_arrive_as_written_and_one_invoke_complete_ends_the_stream(start_daemon):
    d = start_daemon(TEMPLATE)
    with post(d.endpoint, "NodeStream", {"mode": "timed"}) as resp:
        assert resp.status == 200
        events = read_events(resp)
    chunks = [(at, payload) for at, kind, payload in events if kind == "PayloadChunk"]
    assert [json.loads(p)["chunk"] for _, p in chunks] == [1, 2]
    assert chunks[0][0] < json.loads(chunks[1][1])["writtenAt"], "first chunk received before the second was written"
    assert [kind for _, kind, _ in events] == ["PayloadChunk", "PayloadChunk", "InvokeComplete"]
    assert json.loads(events[-1][2]) == {}


def test_mid_stream_error(start_daemon):
    d = start_daemon(TEMPLATE)
    with post(d.endpoint, "NodeStream", {"mode": "fail", "why": "py"}) as resp:
        events = read_events(resp)
    assert b"".join(p for _, kind, p in events if kind == "PayloadChunk") == b"partial output;"
    assert events[-1][1] == "InvokeComplete"
    assert json.loads(events[-1][2]) == {"ErrorCode": "Error", "ErrorDetails": "boom mid-stream: py"}


def test_wire_status_headers_and_framing(start_daemon):
    d = start_daemon(TEMPLATE)
    req = urllib.request.Request(
        f"{d.endpoint}/2021-11-15/functions/NodeStream/response-streaming-invocations",
        data=json.dumps({"mode": "echo"}).encode(), method="POST")
    with urllib.request.urlopen(req, timeout=30) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"] == "application/vnd.amazon.eventstream"
        assert resp.headers["Transfer-Encoding"] == "chunked"
        assert resp.headers["X-Amz-Executed-Version"] == "$LATEST"
        request_id = resp.headers["x-amzn-RequestId"]
        body = resp.read()
    assert request_id
    # Walk the messages: lengths must tile the body exactly.
    kinds, at = [], 0
    while at < len(body):
        total = int.from_bytes(body[at:at + 4], "big")
        headers_len = int.from_bytes(body[at + 4:at + 8], "big")
        headers = body[at + 12:at + 12 + headers_len]
        kinds.append(b"PayloadChunk" if b"PayloadChunk" in headers else b"InvokeComplete")
        at += total
    assert at == len(body)
    assert kinds == [b"PayloadChunk", b"InvokeComplete"]


def test_dry_run_is_204(start_daemon):
    d = start_daemon(TEMPLATE)
    req = urllib.request.Request(
        f"{d.endpoint}/2021-11-15/functions/NodeStream/response-streaming-invocations",
        data=b"{}", method="POST", headers={"X-Amz-Invocation-Type": "DryRun"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        assert resp.status == 204
        assert resp.headers["x-amzn-RequestId"]


def test_event_invocation_type_is_not_allowed(start_daemon):
    d = start_daemon(TEMPLATE)
    req = urllib.request.Request(
        f"{d.endpoint}/2021-11-15/functions/NodeStream/response-streaming-invocations",
        data=b"{}", method="POST", headers={"X-Amz-Invocation-Type": "Event"})
    try:
        urllib.request.urlopen(req, timeout=30)
        raise AssertionError("expected a 400")
    except urllib.error.HTTPError as e:
        assert e.code == 400
        assert e.headers["X-Amzn-ErrorType"] == "ValidationException"
        assert "Member must satisfy enum value set: [RequestResponse, DryRun]" in json.loads(e.read())["message"]


def test_daemon_stops_cleanly_with_streams_in_flight(start_daemon):
    """SIGTERM while a function is streaming and while a client is not reading: the daemon exits 0
    and, in the sanitizer build, without a leak or a use-after-free (checked by the fixture)."""
    d = start_daemon(TEMPLATE)
    slow = post(d.endpoint, "NodeStream", {"mode": "timed", "gapMs": 5000})
    assert slow.read1(65536), "the first chunk arrives"
    unread = post(d.endpoint, "NodeStream", {"mode": "big", "chunks": 30})
    assert unread.read1(1024)
    d.wait_for_log(r"\[NodeStream\] START RequestId: .*\n(.|\n)*\[NodeStream\] START RequestId")
    # Keep both responses open until the fixture has stopped the daemon.
    d.held_responses = [slow, unread]
