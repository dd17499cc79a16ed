"""A checkpoint taken mid-epoch resumes mid-epoch.

mmengine <= 0.10.7's ``EpochBasedTrainLoop`` restores the epoch and
iteration counters of a checkpoint but starts the epoch again from its
first batch: after a checkpoint at an iteration interval, or the one
``PreemptionCheckpointHook`` writes on SIGTERM, the images already trained
on are seen twice and the schedule runs ahead of the data.

The fix records, at the start of every epoch, the iteration it started at
and the samples one iteration takes (all ranks together) in the message
hub, which every checkpoint saves. A resumed epoch then lets the sampler
skip the samples already consumed (no image is loaded for them) and
numbers its batches from where the stopped run was, so that hooks and logs
see the same batch indices as an uninterrupted run; the loop's
``resumed_batches`` says how many it skipped. The number of
processes may change between stop and resume as long as the samples done
make whole batches; the order of samples then follows the sampler's global
order, as mmengine's samplers interleave ranks.
"""
import functools
import itertools
import logging
from typing import Callable, Optional

from ._patching import is_wrapper, mark_wrapper, mmengine_at_most

#: The newest mmengine release that restarts a mid-epoch checkpoint's epoch.
LAST_BROKEN_MMENGINE = '0.10.7'
#: The message hub's record of the current epoch's start.
EPOCH_START = 'train_epoch_start'


def needed() -> bool:
    """Whether mmengine restarts the epoch of a mid-epoch checkpoint."""
    return mmengine_at_most(LAST_BROKEN_MMENGINE)


class _SkipFirst:
    """A sampler without its first ``count`` indices, reporting the whole
    epoch's length (the loop's batch numbering and ETA use it)."""

    def __init__(self, sampler, count: int) -> None:
        self.sampler, self.count = sampler, count

    def __iter__(self):
        return itertools.islice(iter(self.sampler), self.count, None)

    def __len__(self) -> int:
        return len(self.sampler)

    def __getattr__(self, name):
        return getattr(self.sampler, name)


def _samples_per_iter(loop) -> Optional[int]:
    from mmengine.dist import get_world_size
    batch_size = getattr(loop.dataloader.batch_sampler, 'batch_size', None)
    return None if batch_size is None else batch_size * get_world_size()


def batches_done(loop) -> int:
    """How many batches of the current epoch a resumed run has trained,
    from the message hub's record of the epoch's start (0 at a fresh
    epoch).

    Args:
        loop (EpochBasedTrainLoop): The running loop.
    """
    from mmengine.logging import print_log
    start = loop.runner.message_hub.get_info(EPOCH_START)
    per_iter = _samples_per_iter(loop)
    if start is None:  # a checkpoint from before the record
        start = dict(epoch=loop.epoch, iter=loop.epoch * len(loop.dataloader),
                     samples_per_iter=per_iter)
    if start['epoch'] != loop.epoch or loop.iter == start['iter']:
        return 0
    samples = (loop.iter - start['iter']) * (start['samples_per_iter'] or 0)
    if not per_iter or not samples or samples % per_iter or not (
            0 < samples // per_iter <= len(loop.dataloader)):
        print_log(
            f'resuming epoch {loop.epoch + 1} at iteration {loop.iter}: '
            'the samples already trained on do not make whole batches of '
            'this run (another batch size or number of processes, or a '
            'batch sampler without batch_size), so the epoch starts again '
            'from its first batch', logger='current', level=logging.WARNING)
        return 0
    return samples // per_iter


def _resuming_mid_epoch(run_epoch: Callable) -> Callable:
    """Wrap ``EpochBasedTrainLoop.run_epoch`` to record each epoch's start
    and skip the batches a resumed epoch has trained already."""

    @functools.wraps(run_epoch)
    def wrapper(self) -> None:
        skip = batches_done(self)
        # Read by hooks that act differently within an epoch (RNGStateHook).
        self.resumed_batches = skip
        # A resumed epoch is recorded anew for this run's batch size, so a
        # second stop in it resumes from here too.
        self.runner.message_hub.update_info(EPOCH_START, dict(
            epoch=self.epoch, iter=self.iter - skip,
            samples_per_iter=_samples_per_iter(self)))
        if skip == 0:
            return run_epoch(self)
        batch_sampler = self.dataloader.batch_sampler
        sampler = batch_sampler.sampler
        batch_sampler.sampler = _SkipFirst(sampler,
                                           skip * batch_sampler.batch_size)
        run_iter = self.run_iter
        self.run_iter = lambda idx, data_batch: run_iter(idx + skip,
                                                         data_batch)
        try:
            run_epoch(self)
        finally:
            batch_sampler.sampler = sampler
            del self.run_iter

    return mark_wrapper(wrapper)


def resume_mid_epoch() -> None:
    """Make ``EpochBasedTrainLoop`` continue a mid-epoch checkpoint's epoch
    where it stopped."""
    from mmengine.runner import EpochBasedTrainLoop
    if not is_wrapper(EpochBasedTrainLoop.run_epoch):
        EpochBasedTrainLoop.run_epoch = _resuming_mid_epoch(
            EpochBasedTrainLoop.run_epoch)
