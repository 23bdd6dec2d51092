# boto3 is part of Lambda's Python runtimes: a function may import it without shipping it.
import boto3


def handler(event, context):
    return {"boto3": boto3.__version__}
