"""Tenant isolation (tests/e2e/test_tenancy.py): what an environment has served, and for whom."""
import logging
import os

# Module state lives as long as the environment: the tenants it has served, in order.
SEEN = []


def handler(event, context):
    SEEN.append(context.tenant_id)
    logging.getLogger().info("serving %s", context.tenant_id)
    return {"pid": os.getpid(), "tenant": context.tenant_id, "seen": SEEN}
