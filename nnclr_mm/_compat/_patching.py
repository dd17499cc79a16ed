"""Helpers shared by the fixes: version tests, rebinding a name, marking a
wrapper."""
import sys
from typing import Callable, Iterable

_MARK = '__wrapped_by_nnclr_mm__'


def rebind(modules: Iterable[str], name: str, fn: Callable) -> None:
    """Rebind ``name`` to ``fn`` in every loaded module that imported it.

    Args:
        modules (Iterable[str]): Names of the modules to look in; those not
            loaded are skipped.
        name (str): The attribute to rebind.
        fn (Callable): Its new value.
    """
    for module_name in modules:
        module = sys.modules.get(module_name)
        if module is not None and hasattr(module, name):
            setattr(module, name, fn)


def mark_wrapper(wrapper: Callable) -> Callable:
    """Mark ``wrapper`` as ours, so that a second fix does not wrap it again.

    Args:
        wrapper (Callable): A wrapper of an upstream function.

    Returns:
        Callable: ``wrapper`` itself.
    """
    setattr(wrapper, _MARK, True)
    return wrapper


def is_wrapper(fn: Callable) -> bool:
    """Whether ``fn`` was returned by :func:`mark_wrapper`.

    Args:
        fn (Callable): An upstream function or our wrapper of it.
    """
    return hasattr(fn, _MARK)


def mmengine_at_most(version: str) -> bool:
    """Whether the installed mmengine is ``version`` or older.

    Args:
        version (str): The newest release that has a breakage.
    """
    import mmengine
    from mmengine.utils import digit_version
    return digit_version(mmengine.__version__) <= digit_version(version)
