import random
from typing import Callable, Iterator, Optional

import numpy as np
import torch
from mmengine.hooks import Hook
from mmpretrain.registry import HOOKS


class _RestoreBeforeFetch:
    """Data iterator that calls ``restore`` right before the fetch that
    follows ``skip`` fetches, then hands the loop its iterator back."""

    def __init__(self, loop, skip: int, restore: Callable[[], None]) -> None:
        self.loop, self.skip, self.restore = loop, skip, restore
        self.iterator: Iterator = loop.dataloader_iterator

    def __next__(self):
        if self.skip == 0:
            self.restore()
            self.loop.dataloader_iterator = self.iterator
        self.skip -= 1
        return next(self.iterator)


@HOOKS.register_module()
class RNGStateHook(Hook):
    """Save the random-number generators with every checkpoint, and
    restore them on resume, so that a resumed run draws the same random
    numbers as an uninterrupted one.

    mmengine re-seeds on resume instead, so augmentations done in the main
    process (``num_workers=0``) and other draws (e.g. ``topk > 1`` in the
    support set) differ after a resume. The python, numpy, torch and CUDA
    states are stored under ``checkpoint['rng_state']``. They are applied
    at the first iteration after the resume, after the loop has replayed
    the data it skips, which consumes random numbers of its own.

    Dataloader workers seed themselves: with ``persistent_workers=False``
    mmengine seeds them identically every epoch, so resumes are exact; with
    persistent workers their streams restart on resume.
    """

    priority = 'VERY_LOW'

    def __init__(self) -> None:
        self._pending: Optional[dict] = None

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        state = dict(
            python=random.getstate(),
            numpy=np.random.get_state(),
            torch=torch.get_rng_state())
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            state['cuda'] = torch.cuda.get_rng_state_all()
        checkpoint['rng_state'] = state

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        self._pending = checkpoint.get('rng_state')

    def before_train_epoch(self, runner) -> None:
        if self._pending is None:
            return
        loop = runner.train_loop
        if hasattr(loop, 'dataloader_iterator') and loop.iter > 0:
            # IterBasedTrainLoop replays `iter` batches after this hook.
            loop.dataloader_iterator = _RestoreBeforeFetch(
                loop, loop.iter, self._restore)
        else:
            self._restore()

    def _restore(self) -> None:
        state, self._pending = self._pending, None
        random.setstate(state['python'])
        np.random.set_state(state['numpy'])
        torch.set_rng_state(state['torch'])
        if 'cuda' in state and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state['cuda'])
