"""Argument checks that fail early with one wording.

Every error reads ``'{owner}: {name} must be {requirement}, got {value!r}'``
and is a ``ValueError``, so a message names the component and the argument
to fix. This module imports nothing from the plugin or from torch.
"""
import numbers
from typing import Any, Collection


def check(ok: bool, owner: str, name: str, value: Any,
          requirement: str) -> None:
    """Raise the common ``ValueError`` unless ``ok``.

    Args:
        ok (bool): Whether ``value`` meets ``requirement``.
        owner (str): The class or function that takes the argument.
        name (str): The argument's name.
        value (Any): The value given.
        requirement (str): What the value must be, e.g. ``'> 0'``.

    Raises:
        ValueError: ``'{owner}: {name} must be {requirement}, got
            {value!r}'``.
    """
    if not ok:
        raise ValueError(
            f'{owner}: {name} must be {requirement}, got {value!r}')


def check_int(owner: str, name: str, value: Any, low: int) -> None:
    """Require an ``int`` (not a ``bool``) of at least ``low``.

    Args:
        owner (str): The class or function that takes the argument.
        name (str): The argument's name.
        value (Any): The value given.
        low (int): The smallest value allowed.
    """
    ok = (isinstance(value, int) and not isinstance(value, bool)
          and value >= low)
    check(ok, owner, name, value, f'an int >= {low}')


def check_positive(owner: str, name: str, value: Any) -> None:
    """Require a real number (not a ``bool``) greater than 0.

    NaN fails the check.

    Args:
        owner (str): The class or function that takes the argument.
        name (str): The argument's name.
        value (Any): The value given.
    """
    ok = (isinstance(value, numbers.Real) and not isinstance(value, bool)
          and value > 0)
    check(ok, owner, name, value, '> 0')


def check_choice(owner: str, name: str, value: Any,
                 choices: Collection) -> None:
    """Require one of ``choices``.

    Args:
        owner (str): The class or function that takes the argument.
        name (str): The argument's name.
        value (Any): The value given.
        choices (Collection): The allowed values; the message shows them.
    """
    check(value in choices, owner, name, value, f'one of {tuple(choices)}')
