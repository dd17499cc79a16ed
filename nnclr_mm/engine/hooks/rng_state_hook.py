import functools
import random
from typing import Callable, Iterator, List, Optional, Union

import numpy as np
import torch
from mmengine.dist import all_gather_object, get_rank, get_world_size
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.runner import EpochBasedTrainLoop

from ...registry import HOOKS


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


class _CallOnIter:
    """A batch sampler's sampler that calls ``fn`` as the batch sampler
    starts its epoch, then hands the batch sampler its sampler back."""

    def __init__(self, batch_sampler, fn: Callable[[], None],
                 after: bool) -> None:
        self.batch_sampler, self.fn, self.after = batch_sampler, fn, after
        self.sampler = batch_sampler.sampler

    def __iter__(self):
        if not self.after:
            self.fn()
        # Handed back before the inner sampler starts: a wrapper inside
        # hands back its own sampler in turn.
        self.batch_sampler.sampler = self.sampler
        iterator = iter(self.sampler)
        if self.after:
            self.fn()
        return iterator

    def __len__(self) -> int:
        return len(self.sampler)


def call_at_epoch_start(batch_sampler, fn: Callable[[], None],
                        after: bool = False) -> None:
    """Have ``batch_sampler`` call ``fn`` once, as it starts its next
    epoch (when it asks its sampler for an iterator), and leave it as it
    was afterwards.

    Args:
        batch_sampler: A ``torch.utils.data.BatchSampler``, or anything
            that iterates its ``sampler`` attribute.
        fn (Callable): What to call.
        after (bool): Call ``fn`` after the sampler has started instead of
            before, so that what was installed earlier the same way (such
            as :class:`RNGStateHook`'s restore) runs first. Defaults to
            False.

    Examples:
        >>> from torch.utils.data import BatchSampler, SequentialSampler
        >>> batches = BatchSampler(SequentialSampler(range(4)), 2, False)
        >>> call_at_epoch_start(batches, lambda: print('epoch starts'))
        >>> list(batches)
        epoch starts
        [[0, 1], [2, 3]]
        >>> list(batches)  # once only
        [[0, 1], [2, 3]]
    """
    batch_sampler.sampler = _CallOnIter(batch_sampler, fn, after)


def generator_states() -> dict:
    """The random-number generators of this process.

    The torch and CUDA states are stored as ``bytes``, not tensors, so that
    loading a checkpoint with any ``map_location`` (mmengine resumes onto
    the run's device) leaves them as they were saved.

    Returns:
        dict: ``python``, ``numpy``, ``torch`` and, once CUDA is in use,
        ``cuda``: the state of this process's current CUDA device.
    """
    state = dict(
        python=random.getstate(),
        numpy=np.random.get_state(),
        torch=torch.get_rng_state().numpy().tobytes())
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = torch.cuda.get_rng_state().numpy().tobytes()
    return state


def _byte_tensor(state: Union[bytes, torch.Tensor]) -> torch.Tensor:
    """A generator state as ``torch.set_rng_state`` takes it: a CPU
    ``uint8`` tensor, whatever device an older checkpoint's tensor was
    loaded onto."""
    if isinstance(state, torch.Tensor):
        return state.to('cpu', torch.uint8)
    return torch.frombuffer(bytearray(state), dtype=torch.uint8)


def set_generator_states(state: dict) -> None:
    """Restore what :func:`generator_states` returned.

    Args:
        state (dict): One process's states. The CUDA state, if any, goes to
            the current device; without CUDA it is ignored.
    """
    random.setstate(state['python'])
    np.random.set_state(state['numpy'])
    torch.set_rng_state(_byte_tensor(state['torch']))
    if state.get('cuda') is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state(_byte_tensor(state['cuda']))


@HOOKS.register_module()
class RNGStateHook(Hook):
    """Save the random-number generators of every process with every
    checkpoint, and restore them on resume, so that a resumed run draws the
    same random numbers as an uninterrupted one; run the validation a
    checkpoint was saved before.

    mmengine re-seeds on resume instead, so augmentations done in the main
    process (``num_workers=0``) and other draws (e.g. ``topk > 1`` in the
    support set) differ after a resume. The python, numpy, torch and CUDA
    states of every rank (:func:`generator_states`) are stored under
    ``checkpoint['rng_state']['ranks']``, in rank order. mmengine calls
    ``Runner.save_checkpoint`` on every rank but runs it on rank 0 only,
    so the hook gathers the ranks' states in that call; a checkpoint must
    therefore be saved from all ranks at once, as mmengine's hooks do.

    The states are applied at the first iteration after a resume (not
    after ``load_from``), after what the stopped run had drawn before its
    checkpoint: the batches an iteration loop replays, the dataloader seed
    of an epoch resumed mid-way. Each rank gets its own
    states back; resumed with another number of processes, the ranks the
    checkpoint holds get theirs, the others keep their seeded generators,
    and a notice says so. CUDA states go to each process's current
    device, so the number of visible GPUs does not matter.

    mmengine saves a checkpoint after an iteration or epoch and only then
    validates, and a resumed run starts after that validation, which it
    would skip: its kNN metrics would be lost (``save_best`` never sees
    them) and the random numbers it draws (dataloader seeds) would be
    missing from the resumed stream. So when the checkpoint was saved
    before a due validation, the resumed run runs it first, right after
    restoring the generators, as the uninterrupted run did; a run stopped
    in its final validation gets it when resumed (resuming a finished run
    repeats its final validation).

    Dataloader workers seed themselves: with ``persistent_workers=False``
    mmengine seeds them identically every epoch, so resumes are exact; with
    persistent workers their streams restart on resume. On GPUs a resumed
    run is bit-identical to an uninterrupted one only with deterministic
    kernels: ``randomness=dict(deterministic=True)`` and
    ``env_cfg=dict(cudnn_benchmark=False)``.
    """

    priority = 'VERY_LOW'

    def __init__(self) -> None:
        self._pending: Optional[dict] = None
        self._validating = False
        self._gathered: Optional[List[dict]] = None

    def before_run(self, runner) -> None:
        save = runner.save_checkpoint
        if getattr(save, '_gathers_rng_states', False):
            return  # train() then test(): wrapped once

        @functools.wraps(save)
        def gather_then_save(*args, **kwargs):
            # Every rank calls this; only rank 0 runs the body, and with it
            # before_save_checkpoint.
            self._gathered = all_gather_object(generator_states())
            return save(*args, **kwargs)

        gather_then_save._gathers_rng_states = True
        runner.save_checkpoint = gather_then_save

    def before_val(self, runner) -> None:
        self._validating = True

    def after_val(self, runner) -> None:
        self._validating = False

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        ranks, self._gathered = self._gathered, None
        checkpoint['rng_state'] = dict(
            ranks=ranks or [generator_states()],
            # A checkpoint saved by a validation (save_best) follows it.
            saved_in_validation=self._validating)

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
            # A mid-epoch checkpoint resumes within its epoch, whose end
            # validates as usual.
            if getattr(loop, 'resumed_batches', 0):
                return False
            done, last = loop.epoch, loop.max_epochs
        else:
            done, last = loop.iter, loop.max_iters
        if done == 0 or done > last:
            return False
        loop._decide_current_val_interval()
        return done >= loop.val_begin and (done % loop.val_interval == 0
                                           or done == last)

    def before_train(self, runner) -> None:
        loop = runner.train_loop
        finished = (loop.epoch >= loop.max_epochs if isinstance(
            loop, EpochBasedTrainLoop) else loop.iter >= loop.max_iters)
        if self._pending is not None and loop.iter > 0 and finished:
            # Nothing is left to train, so no epoch starts: restore now,
            # which runs the final validation if the stopped run had not.
            self._restore(runner)

    def before_train_epoch(self, runner) -> None:
        if self._pending is None:
            return
        loop = runner.train_loop
        if loop.iter == 0:
            # Loaded by load_from, not resumed: the run's own seed holds.
            self._pending = None
            return
        if hasattr(loop, 'dataloader_iterator'):
            # IterBasedTrainLoop replays `iter` batches after this hook.
            loop.dataloader_iterator = _RestoreBeforeFetch(
                loop, loop.iter, lambda: self._restore(runner))
        elif getattr(loop, 'resumed_batches', 0):
            # Mid-epoch (nnclr_mm's fix of EpochBasedTrainLoop): the stopped
            # run had drawn the epoch's dataloader seed before its
            # checkpoint, the resumed one draws it when the loop starts the
            # epoch, after this hook; restore after that.
            call_at_epoch_start(loop.dataloader.batch_sampler,
                                lambda: self._restore(runner))
        else:
            self._restore(runner)

    def _restore(self, runner) -> None:
        state, self._pending = self._pending, None
        own = self._own_states(state)
        if own is not None:
            set_generator_states(own)
        # The loop's position is restored by now (not yet at load time).
        if (not state.get('saved_in_validation', True)
                and self._validation_due(runner)):
            runner.val_loop.run()
            runner.model.train()

    @staticmethod
    def _own_states(state: dict) -> Optional[dict]:
        """This rank's entry of a checkpoint's ``rng_state``; None if the
        checkpoint holds none for it."""
        if 'ranks' not in state:
            # Written before per-rank states: rank 0's states only, with
            # the CUDA states of all devices visible to it.
            cuda = state.get('cuda')
            if cuda is not None and torch.cuda.is_available():
                device = torch.cuda.current_device()
                cuda = cuda[device] if device < len(cuda) else None
            state = dict(state, cuda=cuda)
            ranks = [state]
        else:
            ranks = state['ranks']
        rank, world_size = get_rank(), get_world_size()
        if len(ranks) != world_size:
            print_log(
                f'RNGStateHook: the checkpoint holds the random-number '
                f'generators of {len(ranks)} process(es), this run has '
                f'{world_size}: ranks below {len(ranks)} restore theirs, '
                'the others keep their seeded ones, so the resumed run '
                'does not repeat the uninterrupted one exactly',
                logger='current')
        return ranks[rank] if rank < len(ranks) else None
