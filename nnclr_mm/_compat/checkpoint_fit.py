"""Checkpoints that do not fit the model are named, not loaded silently.

mmengine <= 0.10.7's ``load_checkpoint`` (behind mmpretrain's
``get_model``, ``FeatureExtractor`` and inferencers) and
``Runner.load_checkpoint`` (``load_from``, resume, the tools) load the
tensors whose names match and only log the rest, so another model's
checkpoint, or a backbone's state dict alone (what ``publish_model.py
--backbone-only`` and torchvision write: no ``backbone.`` prefix), leaves
the model randomly initialised behind a warning in the log. The fix puts a
backbone's weights under the model's backbone first, wherever it sits
(``backbone``, or ``image_encoder.0`` in mmpretrain's
``ImageToImageRetriever``); then a checkpoint that holds less than half of
the model's parameters by name and shape, or a tenth of them in another
shape (another architecture), is refused, naming the file, the shares and
the first mismatches, and a partial load says so in one line (instead
of mmengine's key-by-key lists).
"""
import functools
import re
from collections import OrderedDict
from typing import Callable, Dict, List, Optional, Tuple

import torch

from ._patching import is_wrapper, mark_wrapper, mmengine_at_most, rebind

#: The newest mmengine release that loads unfitting checkpoints silently.
LAST_BROKEN_MMENGINE = '0.10.7'
#: A file that holds less of the model's parameters is refused.
MIN_FRACTION = 0.5
#: A file with more of them under their names but in another shape (another
#: architecture) is refused; a new head (another number of classes) is far
#: below it.
MAX_OTHER_SHAPE = 0.1
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


def _shares(params: dict, state: dict) -> Tuple[float, float]:
    """The fractions of the parameters' elements that ``state`` holds with
    the right shape, and under their names but with another shape."""
    total = max(sum(p.numel() for p in params.values()), 1)
    named = {k: p for k, p in params.items() if k in state}
    held = sum(p.numel() for k, p in named.items()
               if state[k].shape == p.shape)
    other = sum(p.numel() for p in named.values()) - held
    return held / total, other / total


def fit_state_dict(model: torch.nn.Module, state: Dict[str, torch.Tensor],
                   filename: str) -> Tuple[dict, str]:
    """``state`` as ``model`` takes it, and a summary of what matches.

    A backbone's weights go under the model's backbone when their names do
    not match as they are (see the module's documentation). The file fits
    when it holds at least :data:`MIN_FRACTION` of the model's parameters
    (by elements) under their names with their shapes, and at most
    :data:`MAX_OTHER_SHAPE` under their names with another shape (another
    architecture, as ResNet-50's weights in a ResNet-18, whose names
    largely coincide). Buffers (BN statistics, a support set) do not
    count: a published checkpoint holds no support set.

    Args:
        model (nn.Module): The model to load into.
        state (dict): The checkpoint's state dict.
        filename (str): The checkpoint, for messages.

    Returns:
        tuple[dict, str]: The state dict to load, and a summary line when
        some of the model's tensors stay as they are or some of the file's
        are not used (else empty).

    Raises:
        ValueError: If the file does not fit, naming it, the shares and the
            first mismatches.
    """
    params = dict(model.named_parameters())
    model_state = model.state_dict()
    if len(_matching(model_state, state)) < len(model_state):
        rerooted = _rerooted(model, state)
        if rerooted is not None and _shares(params, rerooted)[0] > _shares(
                params, state)[0]:
            state = rerooted
    held, other = _shares(params, state)
    matched = _matching(model_state, state)
    if held < MIN_FRACTION or other > MAX_OTHER_SHAPE:
        missing = [k for k in model_state if k not in matched][:3]
        unused = [k for k in state if k not in matched][:3]
        raise ValueError(
            f'{filename} does not fit {type(model).__name__}: {held:.1%} of '
            f'its parameters match by name and shape (at least '
            f'{MIN_FRACTION:.0%} must), {other:.1%} have their name but '
            f'another shape (at most {MAX_OTHER_SHAPE:.0%} may); '
            f'{len(matched)} of its {len(model_state)} tensors would load; '
            f'first that would not: {missing}; first of the file not used: '
            f'{unused}. Check that the file and the config are of the same '
            'model (a backbone alone loads too).')
    summary = []
    if len(matched) < len(model_state):
        summary.append('the others keep their initialisation')
    if len(matched) < len(state):
        summary.append(f'{len(state) - len(matched)} tensors of the file '
                       'are not used')
    if summary:
        summary.insert(0, f'loaded {len(matched)} of the {len(model_state)} '
                       f'tensors of {type(model).__name__} from {filename}')
    return state, '; '.join(summary)


def _fit_and_load(load_to_model: Callable, model, checkpoint, filename,
                  strict, logger, revise_keys):
    """mmengine's ``_load_checkpoint_to_model`` on the fitted state dict."""
    from mmengine.logging import print_log
    if not isinstance(checkpoint, dict):
        raise RuntimeError(f'No state_dict found in checkpoint file '
                           f'{filename}')
    original = checkpoint.get('state_dict', checkpoint)
    state = original
    for pattern, replacement in revise_keys:
        state = {re.sub(pattern, replacement, k): v for k, v in state.items()}
    state, summary = fit_state_dict(model, state, filename)
    if summary:
        print_log(summary, logger='current')
    state = OrderedDict(state)
    # BN layers read their version from it when loading.
    state._metadata = getattr(original, '_metadata', OrderedDict())
    # The summary says what mmengine would list key by key.
    load_to_model(model, dict(state_dict=state), strict, 'silent', [])
    # The caller (resume) reads the rest of the checkpoint.
    return checkpoint


def _fitted(load_checkpoint: Callable) -> Callable:
    """Wrap mmengine's ``load_checkpoint`` to fit the state dict first."""
    from mmengine.runner.checkpoint import (
        _load_checkpoint,
        _load_checkpoint_to_model,
    )

    @functools.wraps(load_checkpoint)
    def wrapper(model, filename, map_location=None, strict=False,
                logger=None, revise_keys=[(r'^module\.', '')]):
        checkpoint = _load_checkpoint(filename, map_location, logger)
        return _fit_and_load(_load_checkpoint_to_model, model, checkpoint,
                             filename, strict, logger, revise_keys)

    return mark_wrapper(wrapper)


def _fitted_runner_load(load: Callable) -> Callable:
    """Wrap ``Runner.load_checkpoint`` (``load_from``, resume, the tools)
    to fit the state dict first, naming the file it loads."""
    import mmengine.runner.runner as runner_module

    @functools.wraps(load)
    def wrapper(self, filename, *args, **kwargs):
        load_to_model = runner_module._load_checkpoint_to_model

        def fitted(model, checkpoint, strict=False, logger=None,
                   revise_keys=[(r'^module\.', '')]):
            return _fit_and_load(load_to_model, model, checkpoint, filename,
                                 strict, logger, revise_keys)

        # The method calls the module's function by name: for this call
        # only, that name is the fitting one.
        runner_module._load_checkpoint_to_model = fitted
        try:
            return load(self, filename, *args, **kwargs)
        finally:
            runner_module._load_checkpoint_to_model = load_to_model

    return mark_wrapper(wrapper)


def fit_checkpoints() -> None:
    """Fit every checkpoint mmengine's ``load_checkpoint`` and
    ``Runner.load_checkpoint`` load."""
    import mmengine.hub.hub  # noqa: F401
    import mmengine.runner.checkpoint
    import mmpretrain.apis.base  # noqa: F401
    from mmengine.runner import Runner

    load = mmengine.runner.checkpoint.load_checkpoint
    if not is_wrapper(load):
        rebind(_LOAD_CHECKPOINT_USERS, 'load_checkpoint', _fitted(load))
    if not is_wrapper(Runner.load_checkpoint):
        Runner.load_checkpoint = _fitted_runner_load(Runner.load_checkpoint)
