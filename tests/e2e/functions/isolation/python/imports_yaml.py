# Imports a package Debian has in dist-packages and Lambda's Python runtime does not.
import yaml


def handler(event, context):
    return {"yaml": yaml.__file__}
