"""`serve --io-threads 4` (docs/decisions/021): the Invoke API's and the Runtime APIs' connections run
on strands of their own over four threads, the pools on one strand. Buffered invokes, streamed
responses (InvokeWithResponseStream) and runtimes that stream their response body (a chunked POST
read piece by piece) all at once, each answer checked against its own request. CI runs this suite
against the ThreadSanitizer build too, which is where a race in those hand-offs would show."""
import json
import threading
import urllib.request

from test_stream import TEMPLATE, post, read_events


def invoke_buffered(endpoint, i):
    body = json.dumps({"i": i}).encode()
    req = urllib.request.Request(f"{endpoint}/2015-03-31/functions/NodeBuffered/invocations", data=body, method="POST")
    with urllib.request.urlopen(req, timeout=60) as resp:
        return resp.status, json.loads(resp.read())


def test_concurrent_buffered_and_streamed_invokes_on_four_threads(start_daemon):
    d = start_daemon(TEMPLATE, "--io-threads", "4")
    errors, lock = [], threading.Lock()

    def fail(what):
        with lock:
            errors.append(what)

    def buffered(worker):
        for n in range(6):
            i = worker * 100 + n
            status, body = invoke_buffered(d.endpoint, i)
            if status != 200 or body != {"buffered": True, "event": {"i": i}}:
                fail(f"buffered {i}: {status} {body}")

    def streamed(worker):
        for n in range(3):
            event = {"mode": "echo", "i": worker * 100 + n}
            with post(d.endpoint, "NodeStream", event) as resp:
                events = read_events(resp)
            chunks = b"".join(p for _, kind, p in events if kind == "PayloadChunk")
            if json.loads(chunks) != {"echo": event} or events[-1][1] != "InvokeComplete":
                fail(f"streamed {event}: {events}")

    def uploaded(worker):
        with post(d.endpoint, "CurlStream", {"lines": 3, "gap": "0.05", "w": worker}) as resp:
            events = read_events(resp)
        lines = b"".join(p for _, kind, p in events if kind == "PayloadChunk").decode().splitlines()
        if [line.split(" at ")[0] for line in lines] != ["line 1", "line 2", "line 3"]:
            fail(f"uploaded {worker}: {lines}")

    threads = [threading.Thread(target=buffered, args=(w,)) for w in range(6)]
    threads += [threading.Thread(target=streamed, args=(w,)) for w in range(3)]
    threads += [threading.Thread(target=uploaded, args=(w,)) for w in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not [t for t in threads if t.is_alive()], "an invoke never answered"
    assert errors == []
    status = json.loads(urllib.request.urlopen(f"{d.endpoint}/_lambdad/status", timeout=10).read())
    assert status["functions"], status
    assert d.stop_and_check() == []
