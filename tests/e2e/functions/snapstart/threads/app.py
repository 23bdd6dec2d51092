"""A SnapStart function whose init starts a thread. Lambda's snapshot keeps it running in every
restored environment; a forked copy would have lost it, so lambdad restores this one in place."""
import threading
import time

from snapshot_restore_py import register_after_restore

BEATS = []
RESTORED = []


def beat():
    while True:
        BEATS.append(time.monotonic())
        time.sleep(0.005)


threading.Thread(target=beat, name="heartbeat", daemon=True).start()
register_after_restore(lambda: RESTORED.append(True))


def handler(event, context):
    seen = len(BEATS)
    deadline = time.monotonic() + 2
    while len(BEATS) == seen and time.monotonic() < deadline:
        time.sleep(0.005)
    return {
        "alive": any(t.name == "heartbeat" and t.is_alive() for t in threading.enumerate()),
        "beating": len(BEATS) > seen,
        "restored": RESTORED,
    }
