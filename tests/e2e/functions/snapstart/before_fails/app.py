from snapshot_restore_py import register_before_snapshot


@register_before_snapshot
def flush():
    raise RuntimeError("cannot flush before the snapshot")


def handler(event, context):
    return "never"
