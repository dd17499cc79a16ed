"""Checkpoints that do not fit the model are named, not loaded silently.

mmengine <= 0.10.7's ``load_checkpoint`` (behind mmpretrain's
``get_model``, ``FeatureExtractor`` and inferencers) loads the tensors
whose names match and only logs the rest, so another model's checkpoint,
or a backbone's state dict alone (what ``publish_model.py
--backbone-only`` and torchvision write: no ``backbone.`` prefix), leaves
the model randomly initialised behind a warning in the log. The fix puts a
backbone's weights under the model's backbone first, wherever it sits
(``backbone``, or ``image_encoder.0`` in mmpretrain's
``ImageToImageRetriever``); then a checkpoint of which fewer than half of
the model's tensors load by name and shape is refused, naming the file,
the count and the first mismatches, and a partial load says so in one
line.
"""
import functools
import re
from collections import OrderedDict
from typing import Callable, Dict, List, Optional, Tuple

import torch

from ._patching import is_wrapper, mark_wrapper, mmengine_at_most, rebind

#: The newest mmengine release that loads unfitting checkpoints silently.
LAST_BROKEN_MMENGINE = '0.10.7'
#: Below this fraction of the model's tensors matched, a load is refused.
MIN_FRACTION = 0.5
#: Where mmengine's loader is looked up by name.
_LOAD_CHECKPOINT_USERS = ('mmengine.runner', 'mmengine.runner.checkpoint',
                          'mmengine.hub.hub', 'mmpretrain.apis.base')


def needed() -> bool:
    """Whether mmengine is a release that loads unfitting checkpoints."""
    return mmengine_at_most(LAST_BROKEN_MMENGINE)


def _matching(model_state: dict, state: dict) -> List[str]:
    return [k for k, v in state.items()
            if k in model_state and model_state[k].shape == v.shape]


def _rerooted(model: torch.nn.Module, state: dict) -> Optional[dict]:
    """``state``'s backbone weights under the submodule of ``model`` that
    has exactly those tensors, or None where none has.

    The backbone weights are the ``backbone.*`` entries, or all of
    ``state`` when none has that prefix (a backbone's own state dict).
    """
    prefixed = {k[len('backbone.'):]: v for k, v in state.items()
                if k.startswith('backbone.')}
    weights = prefixed or state
    for name, module in model.named_modules():
        own = module.state_dict()
        if name and own.keys() == weights.keys() and all(
                own[k].shape == v.shape for k, v in weights.items()):
            rest = {k: v for k, v in state.items()
                    if prefixed and not k.startswith('backbone.')}
            return {**rest, **{f'{name}.{k}': v for k, v in weights.items()}}
    return None


def fit_state_dict(model: torch.nn.Module, state: Dict[str, torch.Tensor],
                   filename: str) -> Tuple[dict, str]:
    """``state`` as ``model`` takes it, and a summary of what matches.

    A backbone's weights go under the model's backbone when their names do
    not match as they are (see the module's documentation).

    Args:
        model (nn.Module): The model to load into.
        state (dict): The checkpoint's state dict.
        filename (str): The checkpoint, for messages.

    Returns:
        tuple[dict, str]: The state dict to load, and a summary line when
        some of the model's tensors stay as they are (else empty).

    Raises:
        ValueError: If fewer than :data:`MIN_FRACTION` of the model's
            tensors match by name and shape, naming the file, the count and
            the first mismatches.
    """
    model_state = model.state_dict()
    if len(_matching(model_state, state)) < len(model_state):
        rerooted = _rerooted(model, state)
        if rerooted is not None and len(_matching(
                model_state, rerooted)) > len(_matching(model_state, state)):
            state = rerooted
    matched = _matching(model_state, state)
    if len(matched) < MIN_FRACTION * len(model_state):
        missing = [k for k in model_state if k not in matched][:3]
        unused = [k for k in state if k not in matched][:3]
        raise ValueError(
            f'{filename} does not fit {type(model).__name__}: '
            f'{len(matched)} of its {len(model_state)} tensors match by '
            f'name and shape (first missing: {missing}; first in the file '
            f'but not matching: {unused}). Check that the file and the '
            'config are of the same model (a backbone alone loads too).')
    summary = ''
    if len(matched) < len(model_state):
        summary = (f'loaded {len(matched)} of the {len(model_state)} tensors '
                   f'of {type(model).__name__} from {filename}; the others '
                   'keep their initialisation')
    return state, summary


def _fitted(load_checkpoint: Callable) -> Callable:
    """Wrap mmengine's ``load_checkpoint`` to fit the state dict first."""
    from mmengine.logging import print_log
    from mmengine.runner.checkpoint import (
        _load_checkpoint,
        _load_checkpoint_to_model,
    )

    @functools.wraps(load_checkpoint)
    def wrapper(model, filename, map_location=None, strict=False,
                logger=None, revise_keys=[(r'^module\.', '')]):
        checkpoint = _load_checkpoint(filename, map_location, logger)
        if not isinstance(checkpoint, dict):
            raise RuntimeError(f'No state_dict found in checkpoint file '
                               f'{filename}')
        state = checkpoint.get('state_dict', checkpoint)
        for pattern, replacement in revise_keys:
            state = {re.sub(pattern, replacement, k): v
                     for k, v in state.items()}
        state, summary = fit_state_dict(model, state, filename)
        if summary:
            print_log(summary, logger='current')
        meta = {'meta': checkpoint['meta']} if 'meta' in checkpoint else {}
        return _load_checkpoint_to_model(
            model, dict(meta, state_dict=OrderedDict(state)), strict,
            logger, [])

    return mark_wrapper(wrapper)


def fit_checkpoints() -> None:
    """Fit every checkpoint mmengine's ``load_checkpoint`` loads."""
    import mmengine.hub.hub  # noqa: F401
    import mmengine.runner.checkpoint
    import mmpretrain.apis.base  # noqa: F401

    load = mmengine.runner.checkpoint.load_checkpoint
    if not is_wrapper(load):
        rebind(_LOAD_CHECKPOINT_USERS, 'load_checkpoint', _fitted(load))
