import random
from typing import Callable, Iterator, Optional

import numpy as np
import torch
from mmengine.hooks import Hook
from mmengine.runner import EpochBasedTrainLoop
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
    numbers as an uninterrupted one; run the validation a checkpoint was
    saved before.

    mmengine re-seeds on resume instead, so augmentations done in the main
    process (``num_workers=0``) and other draws (e.g. ``topk > 1`` in the
    support set) differ after a resume. The python, numpy, torch and CUDA
    states are stored under ``checkpoint['rng_state']``. They are applied
    at the first iteration after the resume, after the loop has replayed
    the data it skips, which consumes random numbers of its own.

    mmengine saves a checkpoint after an iteration or epoch and only then
    validates, and a resumed run starts after that validation, which it
    would skip: its kNN metrics would be lost (``save_best`` never sees
    them) and the random numbers it draws (dataloader seeds) would be
    missing from the resumed stream. So when the checkpoint was saved
    before a due validation, the resumed run runs it first, right after
    restoring the generators, as the uninterrupted run did.

    Dataloader workers seed themselves: with ``persistent_workers=False``
    mmengine seeds them identically every epoch, so resumes are exact; with
    persistent workers their streams restart on resume.
    """

    priority = 'VERY_LOW'

    def __init__(self) -> None:
        self._pending: Optional[dict] = None
        self._validating = False

    def before_val(self, runner) -> None:
        self._validating = True

    def after_val(self, runner) -> None:
        self._validating = False

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        state = dict(
            python=random.getstate(),
            numpy=np.random.get_state(),
            torch=torch.get_rng_state())
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            state['cuda'] = torch.cuda.get_rng_state_all()
        # A checkpoint saved by a validation (save_best) follows it.
        state['saved_in_validation'] = self._validating
        checkpoint['rng_state'] = state

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        self._pending = checkpoint.get('rng_state')

    @staticmethod
    def _validation_due(runner) -> bool:
        """Whether the uninterrupted run validated right where the resumed
        one starts (the test of mmengine's train loops)."""
        loop = runner.train_loop
        if runner.val_loop is None:
            return False
        if isinstance(loop, EpochBasedTrainLoop):
            # A mid-epoch checkpoint resumes at the start of its epoch,
            # whose end validates as usual.
            if loop.iter != loop.epoch * len(loop.dataloader):
                return False
            done, last = loop.epoch, loop.max_epochs
        else:
            done, last = loop.iter, loop.max_iters
        if done == 0 or done >= last:
            return False
        loop._decide_current_val_interval()
        return done >= loop.val_begin and done % loop.val_interval == 0

    def before_train_epoch(self, runner) -> None:
        if self._pending is None:
            return
        loop = runner.train_loop
        if hasattr(loop, 'dataloader_iterator') and loop.iter > 0:
            # IterBasedTrainLoop replays `iter` batches after this hook.
            loop.dataloader_iterator = _RestoreBeforeFetch(
                loop, loop.iter, lambda: self._restore(runner))
        else:
            self._restore(runner)

    def _restore(self, runner) -> None:
        state, self._pending = self._pending, None
        random.setstate(state['python'])
        np.random.set_state(state['numpy'])
        torch.set_rng_state(state['torch'])
        if 'cuda' in state and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state['cuda'])
        # The loop's position is restored by now (not yet at load time).
        if (not state.get('saved_in_validation', True)
                and self._validation_due(runner)):
            runner.val_loop.run()
            runner.model.train()
