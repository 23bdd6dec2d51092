import os
import time


def handle(event, request_id, env):
    if event.get("spawn"):
        # A grandchild that would outlive a careless daemon.
        pid = os.fork()
        if pid == 0:
            time.sleep(300)
            os._exit(0)
        with open(event["spawn"], "w") as f:
            f.write(str(pid))
    time.sleep(event.get("sleep", 0))
    return {"slept": event.get("sleep", 0), "pid": os.getpid()}
