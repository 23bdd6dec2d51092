"""Turns _HANDLER ("module.function", "dir/sub/module.function", "pkg.mod.function") into the
function's callable, raising FaultException with Lambda's error types when it cannot."""
import importlib
import sys

from . import errors


def split_handler(handler):
    """("dir/sub/module", "function"), or MalformedHandlerName when there is no dot."""
    try:
        module_name, function_name = handler.rsplit(".", 1)
    except ValueError as e:
        raise errors.FaultException(
            errors.MALFORMED_HANDLER_NAME, "Bad handler '{}': {}".format(handler, e))
    return module_name, function_name


def load_handler(handler):
    module_name, function_name = split_handler(handler)
    if module_name.split(".")[0] in sys.builtin_module_names:
        raise errors.FaultException(
            errors.BUILT_IN_MODULE_CONFLICT,
            "Cannot use built-in module {} as a handler module".format(module_name))
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as e:
        raise errors.FaultException(
            errors.IMPORT_MODULE_ERROR,
            "Unable to import module '{}': {}".format(module_name, e))
    except SyntaxError as e:
        raise errors.FaultException(
            errors.USER_CODE_SYNTAX_ERROR,
            "Syntax error in module '{}': {}".format(module_name, e),
            ['  File "%s" Line %s\n    %s' % (e.filename, e.lineno, e.text)])
    try:
        return getattr(module, function_name)
    except AttributeError:
        raise errors.FaultException(
            errors.HANDLER_NOT_FOUND,
            "Handler '{}' missing on module '{}'".format(function_name, module_name))
