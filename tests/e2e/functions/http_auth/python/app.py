import json


def echo(event, context):
    """The route's function: answers with the event it got."""
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": json.dumps({"event": event})}


def policy(effect, resource, principal="user-1", context=None):
    doc = {"principalId": principal,
           "policyDocument": {"Version": "2012-10-17",
                              "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}]}}
    if context is not None:
        doc["context"] = context
    return doc


def token_authorizer(event, context):
    """TOKEN: the token says what to answer. Each call prints a line the tests count."""
    token = event["authorizationToken"]
    print(f"token-authorizer-called {token}", flush=True)
    kind = token.split("-")[0]
    if kind == "allow":
        # Every GET of the API and stage: what a cached result may be reused for.
        api_and_stage = "/".join(event["methodArn"].split("/")[:2])
        return policy("Allow", api_and_stage + "/GET/*", principal=token,
                      context={"user": "alice", "level": 7, "admin": True, "methodArn": event["methodArn"]})
    if kind == "deny":
        return policy("Deny", event["methodArn"])
    if kind == "elsewhere":
        return policy("Allow", "arn:aws:execute-api:us-east-1:123456789012:OtherApi/*/GET/*")
    if kind == "unauthorized":
        raise Exception("Unauthorized")
    if kind == "crash":
        raise RuntimeError("the authorizer failed")
    if kind == "malformed":
        return {"principalId": 1}
    return policy("Deny", "*")


def request_authorizer(event, context):
    """REQUEST: allows user alice, and shows the event it got in the context."""
    user = event["headers"].get("X-User") or event["headers"].get("x-user")
    effect = "Allow" if user == "alice" else "Deny"
    return policy(effect, event["methodArn"], principal=user,
                  context={"seen": json.dumps({k: event.get(k) for k in
                                               ("type", "methodArn", "resource", "path", "httpMethod",
                                                "queryStringParameters", "multiValueQueryStringParameters",
                                                "pathParameters", "stageVariables")})})


def simple_authorizer(event, context):
    """HTTP API 2.0 simple response: X-Key open-sesame is authorized."""
    ok = event["headers"].get("x-key") == "open-sesame"
    return {"isAuthorized": ok,
            "context": {"user": "bob", "tier": 2, "routeArn": event["routeArn"],
                        "identitySource": event["identitySource"], "type": event["type"]}}
