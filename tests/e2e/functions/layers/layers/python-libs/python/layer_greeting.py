"""A module that only the python-libs layer provides."""


def greet(name):
    return "hello {} from the python-libs layer".format(name)
