"""Runtime hooks for SnapStart, as Lambda's Python runtimes (3.12 and later) provide them.

    from snapshot_restore_py import register_before_snapshot, register_after_restore

    @register_before_snapshot
    def close_connections():
        ...

    register_after_restore(reseed, 42)

Before-snapshot hooks run once, after the handler's module is imported, in the reverse order of
their registration; after-restore hooks run in each environment restored from the snapshot, in
the order of their registration, before its first invocation. Either may be registered as a
decorator or called with the function and its arguments.
"""

_before_snapshot = []
_after_restore = []


def register_before_snapshot(func, *args, **kwargs):
    _before_snapshot.append((func, args, kwargs))
    return func


def register_after_restore(func, *args, **kwargs):
    _after_restore.append((func, args, kwargs))
    return func


def get_before_snapshot():
    return list(_before_snapshot)


def get_after_restore():
    return list(_after_restore)
