"""Upstream modules as shipped, for showing the breakage each fix fixes."""
import importlib.util
from types import ModuleType


def load_unpatched(module_name: str) -> ModuleType:
    """A fresh copy of ``module_name`` as shipped, beside the patched one.

    Args:
        module_name (str): Dotted name of an installed module.
    """
    origin = importlib.util.find_spec(module_name).origin
    spec = importlib.util.spec_from_file_location(module_name + '_unpatched',
                                                  origin)
    module = importlib.util.module_from_spec(spec)
    module.__package__ = module_name.rpartition('.')[0]
    spec.loader.exec_module(module)
    return module
