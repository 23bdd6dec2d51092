"""An internal extension that cannot start: it registers, then reports an init error."""
import os
import urllib.request

API = os.environ["AWS_LAMBDA_RUNTIME_API"]
base = "http://{}/2020-01-01/extension/".format(API)
r = urllib.request.urlopen(urllib.request.Request(base + "register", data=b'{"events":["INVOKE"]}', method="POST",
                                                  headers={"Lambda-Extension-Name": "broken"}))
ID = r.headers["Lambda-Extension-Identifier"]
urllib.request.urlopen(urllib.request.Request(base + "init/error", data=b'{"errorMessage":"no backend"}', method="POST",
                                              headers={"Lambda-Extension-Identifier": ID,
                                                       "Lambda-Extension-Function-Error-Type": "Extension.ConnectFailed"}))


def handler(event, context):
    return "never reached: the extension's init failed"
