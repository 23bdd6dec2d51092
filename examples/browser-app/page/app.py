"""The page: answers every request to the Function URL with index.html."""
import pathlib

PAGE = (pathlib.Path(__file__).parent / "index.html").read_text(encoding="utf-8")


def handler(event, context):
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"},
        "body": PAGE,
    }
