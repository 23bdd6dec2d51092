import os
import subprocess
import sys

import layer_greeting
import layer_order
import layer_site_package


def handler(event, context):
    opt = {}
    if os.path.isdir("/opt/python"):
        opt["listing"] = sorted(os.listdir("/opt"))
        with open("/opt/python/layer_order.py") as f:
            opt["layerOrder"] = f.read()
        try:
            open("/opt/written-by-function", "w").close()
            opt["writable"] = True
        except OSError as e:
            opt["writable"] = False
            opt["writeError"] = e.strerror
    tool = subprocess.run(["layer-tool", "from python"], capture_output=True, text=True)
    return {
        "greeting": layer_greeting.greet(event.get("name", "you")),
        "greetingFile": layer_greeting.__file__,
        "winner": layer_order.WINNER,
        "sitePackage": layer_site_package.WHERE,
        "tool": tool.stdout.strip(),
        "sysPath": sys.path,
        "env": {k: os.environ.get(k) for k in ("PATH", "LD_LIBRARY_PATH", "PYTHONPATH")},
        "opt": opt,
    }
