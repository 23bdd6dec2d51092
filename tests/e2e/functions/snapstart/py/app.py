"""A SnapStart function that records what ran where: hooks in order, the process and its
environment, and state made at init (shared by every copy of the snapshot, as on Lambda)."""
import os
import random

from snapshot_restore_py import register_after_restore, register_before_snapshot

ORDER = []
INIT_PID = os.getpid()
INIT_TOKEN = random.random()  # drawn at init: the same in every copy
random.seed(7)  # and the generator's state too, until a hook reseeds

# A library's at-fork hooks: Lambda runs none at a restore, so a copy must not run them either
# (the before hook would run in the snapshot, once per copy). A fork the function makes still
# runs them.
os.register_at_fork(before=lambda: ORDER.append("at-fork:before"),
                    after_in_parent=lambda: ORDER.append("at-fork:parent"),
                    after_in_child=lambda: ORDER.append("at-fork:child"))


@register_before_snapshot
def first_before():
    ORDER.append("before:first")


def second_before(tag):
    ORDER.append("before:" + tag)


register_before_snapshot(second_before, "second")


@register_after_restore
def first_after():
    ORDER.append("after:first")


register_after_restore(lambda tag: ORDER.append("after:" + tag), "second")


def handler(event, context):
    ORDER.append("invoke")
    order = list(ORDER)
    pid = os.fork()
    if pid == 0:
        os._exit(0 if ORDER[len(order):] == ["at-fork:before", "at-fork:child"] else 1)
    _, status = os.waitpid(pid, 0)
    own_fork = {"parent": ORDER[len(order):], "childExit": os.waitstatus_to_exitcode(status)}
    del ORDER[len(order):]
    mine = "/tmp/" + context.aws_request_id
    with open(mine, "w") as f:
        f.write("x")
    return {
        "pid": os.getpid(),
        "initPid": INIT_PID,
        "initToken": INIT_TOKEN,
        "draw": random.random(),
        "order": order,
        "ownFork": own_fork,
        "tmp": sorted(os.listdir("/tmp")),
        "initFile": open("/tmp/model/weights.bin").read(),
        "initializationType": os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE"),
        "logStream": os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME"),
        "logGroup": os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME"),
        "snapshotSocket": os.environ.get("_LAMBDAD_SNAPSHOT_SOCKET"),
        "cgroup": open("/proc/self/cgroup").read(),
        "cwd": os.getcwd(),
        "requestId": context.aws_request_id,
    }


# What the init writes to /tmp is part of the snapshot, as on Lambda: every copy finds it.
os.makedirs("/tmp/model", exist_ok=True)
with open("/tmp/model/weights.bin", "w") as f:
    f.write("weights written at init")
