"""``collate_fn`` of configs inherited from ``mmpretrain::`` bases.

mmengine tags every dict a config inherits from a ``mmpretrain::`` base with
``_scope_='mmpretrain'``, and ``Runner.build_dataloader`` of mmengine
<= 0.10.7 passes all keys of ``collate_fn`` but ``type`` to the function, so
the first batch fails with ``default_collate() got an unexpected keyword
argument '_scope_'``. The fix resolves a tagged ``collate_fn`` in its scope,
as ``build_from_cfg`` resolves ``_scope_`` of any other component.
"""
import copy
import functools
from typing import Callable

from ._patching import is_wrapper, mark_wrapper, mmengine_at_most

#: The newest mmengine release that passes ``_scope_`` to ``collate_fn``.
LAST_BROKEN_MMENGINE = '0.10.7'


def needed() -> bool:
    """Whether mmengine is a release that passes ``_scope_`` on."""
    return mmengine_at_most(LAST_BROKEN_MMENGINE)


def _scoped_collate_fn(build_dataloader: Callable) -> Callable:
    """Wrap ``Runner.build_dataloader`` so that a ``collate_fn`` with a
    ``_scope_`` key is resolved in that scope instead of receiving it."""
    from mmengine.registry import FUNCTIONS

    @functools.wraps(build_dataloader)
    def wrapper(dataloader, *args, **kwargs):
        collate_fn = (dataloader.get('collate_fn')
                      if isinstance(dataloader, dict) else None)
        if isinstance(collate_fn, dict) and '_scope_' in collate_fn:
            dataloader = copy.copy(dataloader)
            collate_fn = dict(collate_fn)
            scope = collate_fn.pop('_scope_')
            if isinstance(collate_fn.get('type'), str):
                # mmpretrain has no function registry: then mmengine's,
                # without switching scopes (which warns of the fallback).
                registry = FUNCTIONS._search_child(scope) or FUNCTIONS
                function = registry.get(collate_fn['type'])
                if function is None:
                    raise KeyError(
                        f'collate_fn type {collate_fn["type"]!r} is not in '
                        f'the {scope}::function registry')
                collate_fn['type'] = function
            dataloader['collate_fn'] = collate_fn
        return build_dataloader(dataloader, *args, **kwargs)

    return mark_wrapper(wrapper)


def fix_collate_fn_scope() -> None:
    """Let dataloaders inherited from ``mmpretrain::`` bases build."""
    from mmengine.runner import FlexibleRunner, Runner

    for runner in (Runner, FlexibleRunner):
        build = runner.__dict__['build_dataloader'].__func__
        if not is_wrapper(build):
            runner.build_dataloader = staticmethod(_scoped_collate_fn(build))
