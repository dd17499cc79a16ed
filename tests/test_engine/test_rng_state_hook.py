"""RNGStateHook's checkpoint format: states that load on any device, one
entry per rank, older checkpoints, and resume-only restoring."""
import io
import random
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from nnclr_mm.engine import RNGStateHook


def draws():
    """One draw of each generator the hook restores."""
    return (random.random(), float(np.random.rand()), torch.rand(3))


def seed_all(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def saved_then_drawn(hook):
    """A checkpoint written by ``hook`` now, and the draws that follow."""
    checkpoint = {}
    hook.before_save_checkpoint(None, checkpoint)
    return checkpoint, draws()


def resumed_runner(iteration=3):
    """What the hook reads of a runner: a loop resumed at ``iteration``
    without a data iterator to wrap, and no validation."""
    return SimpleNamespace(train_loop=SimpleNamespace(iter=iteration),
                           val_loop=None)


def reload(checkpoint, map_location):
    buffer = io.BytesIO()
    torch.save(checkpoint, buffer)
    buffer.seek(0)
    return torch.load(buffer, map_location=map_location, weights_only=True)


def assert_same_draws(a, b):
    assert a[:2] == b[:2]
    assert torch.equal(a[2], b[2])


def test_states_restore_whatever_device_the_checkpoint_is_loaded_onto():
    # mmengine resumes with map_location set to the run's device, so on a
    # GPU every tensor of the checkpoint arrives on CUDA, where
    # torch.set_rng_state refuses it. 'meta' stands in for that device
    # here: a tensor state fails the same way ('RNG state must be a
    # torch.ByteTensor').
    import nnclr_mm  # noqa: F401  (weights_only allow-list)
    seed_all(1)
    checkpoint, expected = saved_then_drawn(RNGStateHook())
    loaded = reload(checkpoint, map_location='meta')
    hook = RNGStateHook()
    hook.after_load_checkpoint(None, loaded)
    draws()  # move every generator on
    hook.before_train_epoch(resumed_runner())
    assert_same_draws(draws(), expected)


def test_the_state_of_each_rank_is_stored_in_rank_order():
    hook = RNGStateHook()
    seed_all(2)
    hook._gathered = [dict(rank=0), dict(rank=1)]  # as all ranks gathered
    checkpoint = {}
    hook.before_save_checkpoint(None, checkpoint)
    assert checkpoint['rng_state']['ranks'] == [dict(rank=0), dict(rank=1)]
    assert checkpoint['rng_state']['saved_in_validation'] is False
    # The next checkpoint gathers anew.
    hook.before_save_checkpoint(None, checkpoint)
    assert len(checkpoint['rng_state']['ranks']) == 1


def test_a_checkpoint_of_the_earlier_format_resumes():
    # Before per-rank states: rank 0's states as tensors, and the CUDA
    # states of every GPU rank 0 saw (here 3, more than this machine has).
    seed_all(3)
    old = dict(python=random.getstate(), numpy=np.random.get_state(),
               torch=torch.get_rng_state(),
               cuda=[torch.zeros(16, dtype=torch.uint8)] * 3,
               saved_in_validation=False)
    expected = draws()
    hook = RNGStateHook()
    hook.after_load_checkpoint(None, reload(dict(rng_state=old), 'cpu'))
    hook.before_train_epoch(resumed_runner())
    assert_same_draws(draws(), expected)


def test_load_from_keeps_the_run_s_own_seed():
    # load_from starts a new run at iteration 0: nothing is restored.
    seed_all(4)
    checkpoint, _ = saved_then_drawn(RNGStateHook())
    seed_all(5)
    expected = draws()
    seed_all(5)
    hook = RNGStateHook()
    hook.after_load_checkpoint(None, checkpoint)
    hook.before_train_epoch(resumed_runner(iteration=0))
    assert_same_draws(draws(), expected)
    assert hook._pending is None


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
def test_the_cuda_state_of_the_current_device_is_restored():
    torch.cuda.init()
    torch.cuda.manual_seed(6)
    checkpoint, _ = saved_then_drawn(RNGStateHook())
    expected = torch.rand(3, device='cuda')
    hook = RNGStateHook()
    hook.after_load_checkpoint(None, reload(checkpoint, 'cuda'))
    hook.before_train_epoch(resumed_runner())
    assert torch.equal(torch.rand(3, device='cuda'), expected)


def test_epoch_start_calls_nest_and_leave_the_sampler_as_it_was():
    # RNGStateHook restores as a mid-epoch resume's epoch starts; what is
    # installed after it with after=True (the GPU acceptance's state dump)
    # runs after the restore, and the batch sampler ends as it began, not
    # with the restore installed again for the next epoch.
    from torch.utils.data import BatchSampler, SequentialSampler

    from nnclr_mm.engine.hooks.rng_state_hook import call_at_epoch_start
    sampler = SequentialSampler(range(4))
    batches = BatchSampler(sampler, 2, False)
    calls = []
    call_at_epoch_start(batches, lambda: calls.append('restore'))
    call_at_epoch_start(batches, lambda: calls.append('dump'), after=True)
    call_at_epoch_start(batches, lambda: calls.append('first'))
    assert list(batches) == [[0, 1], [2, 3]]
    assert calls == ['first', 'restore', 'dump']
    assert batches.sampler is sampler
    assert list(batches) == [[0, 1], [2, 3]] and len(calls) == 3
