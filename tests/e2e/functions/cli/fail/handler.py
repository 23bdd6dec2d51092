class ValidationError(Exception):
    pass


def handle(event, request_id, env):
    raise ValidationError("bad input: " + str(event.get("x")))
