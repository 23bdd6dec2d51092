# handler: py/app.handler. Debian's `py` library must not be found before this directory.
def handler(event, context):
    return {"from": "the function's own py/app.py"}
