"""HelloPython: answers with a greeting, the event it received and its request id."""
import logging
import os

logger = logging.getLogger()
logger.setLevel(logging.INFO)


def handler(event, context):
    logger.info("received %s", event)
    return {
        "message": f"{os.environ.get('GREETING', 'hello')} from python",
        "event": event,
        "requestId": context.aws_request_id,
    }
