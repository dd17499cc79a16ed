"""AmpOptimWrapper on a machine without a GPU: the unfixed wrapper refuses
it; the fixed one trains in float32 (bfloat16 autocast when asked),
checkpoints without a loss scaler, and resumes a GPU run's checkpoint."""
import pytest
import torch
from mmengine.optim import AmpOptimWrapper, OptimWrapper

from nnclr_mm._compat import cpu_amp

pytestmark = pytest.mark.skipif(not cpu_amp.needed(),
                                reason='an accelerator is available')


def linear_and(wrapper_type, **kwargs):
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 2)
    return model, wrapper_type(
        optimizer=torch.optim.SGD(model.parameters(), lr=0.1), **kwargs)


def step(model, wrapper):
    """One step on a fixed batch; the output's dtype."""
    x = torch.randn(8, 4, generator=torch.Generator().manual_seed(1))
    with wrapper.optim_context(model):
        out = model(x)
    wrapper.update_params(out.float().pow(2).mean())
    return out.dtype


def test_the_unfixed_wrapper_refuses_the_cpu():
    unfixed_init = AmpOptimWrapper.__init__.__wrapped__
    model = torch.nn.Linear(4, 2)
    with pytest.raises(AssertionError, match='only available training on'):
        unfixed_init(object.__new__(AmpOptimWrapper),
                     optimizer=torch.optim.SGD(model.parameters(), lr=0.1))


def test_by_default_a_step_is_the_float32_step():
    model, wrapper = linear_and(AmpOptimWrapper, loss_scale='dynamic')
    reference, plain = linear_and(OptimWrapper)
    assert step(model, wrapper) == step(reference, plain) == torch.float32
    for p, q in zip(model.parameters(), reference.parameters()):
        assert torch.equal(p, q)


def test_bfloat16_autocasts_and_does_not_scale_the_loss():
    model, wrapper = linear_and(AmpOptimWrapper, dtype='bfloat16')
    assert step(model, wrapper) == torch.bfloat16
    # The same step by hand: a bfloat16 forward, no loss scale.
    reference, plain = linear_and(OptimWrapper)
    x = torch.randn(8, 4, generator=torch.Generator().manual_seed(1))
    with torch.autocast('cpu', dtype=torch.bfloat16):
        out = reference(x)
    out.float().pow(2).mean().backward()
    plain.optimizer.step()
    for p, q in zip(model.parameters(), reference.parameters()):
        assert torch.equal(p, q)


def test_float16_is_refused_naming_the_key():
    with pytest.raises(ValueError, match="optim_wrapper.dtype is 'float16'"):
        linear_and(AmpOptimWrapper, dtype='float16')


def test_checkpoints_move_between_the_cpu_and_a_gpu_run():
    _, wrapper = linear_and(AmpOptimWrapper)
    state = wrapper.state_dict()
    # No empty scaler state, which a GPU's GradScaler refuses to load.
    assert 'loss_scaler' not in state
    # A GPU run's state, scaler included, loads here.
    gpu_state = dict(state, loss_scaler=dict(
        scale=1024.0, growth_factor=2.0, backoff_factor=0.5,
        growth_interval=2000, _growth_tracker=3))
    _, resumed = linear_and(AmpOptimWrapper)
    resumed.load_state_dict(gpu_state)
    assert resumed.optimizer.state_dict() == wrapper.optimizer.state_dict()
