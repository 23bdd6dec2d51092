from snapshot_restore_py import register_after_restore


@register_after_restore
def reconnect():
    raise ConnectionError("the database is not there")


def handler(event, context):
    return "never"
