"""mmengine checkpoints under ``torch.load(weights_only=True)`` (torch >=
2.6): unfixed fails on the message hub, fixed loads it and still refuses
code."""
import io
import pickle
import random
import sys

import numpy as np
import pytest
import torch

from nnclr_mm._compat import checkpoint_load
from nnclr_mm._compat.checkpoint_load import load_from_local

broken_upstream = pytest.mark.skipif(
    not checkpoint_load.needed(),
    reason='torch < 2.6 does not load with weights_only: not fixed')


@pytest.mark.parametrize('version, needed', [
    ('2.5.1', False),
    (checkpoint_load.FIRST_WEIGHTS_ONLY_TORCH, True),
    ('2.14.1+cpu', True),
])
def test_needed_from_torch_2_6(monkeypatch, version, needed):
    monkeypatch.setattr(torch, '__version__', version)
    assert checkpoint_load.needed() is needed


def message_hub_checkpoint():
    """What mmengine's runner saves besides the weights, as bytes."""
    from mmengine.logging import MessageHub
    hub = MessageHub.get_instance('compat_test')
    hub.update_scalar('train/loss', np.float64(0.5))
    hub.update_scalar('train/loss', 0.25)
    hub.update_info('iter', 3)
    buffer = io.BytesIO()
    torch.save(
        dict(
            meta=dict(seed=np.int64(7), hist=np.arange(3.0)),
            message_hub=hub.state_dict(),
            state_dict=dict(w=torch.ones(2))), buffer)
    return buffer.getvalue()


@broken_upstream
def test_unpatched_weights_only_load_rejects_message_hub():
    data = message_hub_checkpoint()
    torch.serialization.clear_safe_globals()
    try:
        with pytest.raises(pickle.UnpicklingError,
                           match='Unsupported global'):
            torch.load(io.BytesIO(data), weights_only=True)
    finally:
        checkpoint_load.allow_checkpoint_types()


@broken_upstream
def test_weights_only_load_restores_message_hub():
    loaded = torch.load(io.BytesIO(message_hub_checkpoint()),
                        weights_only=True)
    loss = loaded['message_hub']['log_scalars']['train/loss']
    assert loss.mean() == pytest.approx(0.375)
    assert loss.current() == 0.25
    assert loaded['meta']['seed'] == 7
    np.testing.assert_array_equal(loaded['meta']['hist'], [0.0, 1.0, 2.0])


@broken_upstream
def test_weights_only_load_in_a_fresh_process(monkeypatch):
    # mmengine registers the default statistics only when a HistoryBuffer
    # is first built, which a process that just loads has not done.
    from mmengine.logging import HistoryBuffer
    data = message_hub_checkpoint()
    monkeypatch.setattr(HistoryBuffer, '_statistics_methods', {})
    loaded = torch.load(io.BytesIO(data), weights_only=True)
    assert loaded['message_hub']['log_scalars']['train/loss'].max() == 0.5


class RunsCode:
    """Unpickling this calls os.system, as a malicious checkpoint would."""

    def __reduce__(self):
        import os
        return os.system, ('echo pwned',)


class GetattrEscape:
    """Reaches a process-spawning method through builtins.getattr."""

    def __reduce__(self):
        import subprocess
        return getattr, (subprocess.Popen, '__init__')


@pytest.mark.parametrize('payload', [RunsCode(), GetattrEscape()])
def test_checkpoint_that_runs_code_is_refused(payload):
    buffer = io.BytesIO()
    torch.save(dict(state_dict={}, evil=payload), buffer)
    buffer.seek(0)
    with pytest.raises(pickle.UnpicklingError):
        torch.load(buffer, weights_only=True)


def test_restricted_getattr_allows_only_history_buffer_statistics():
    from mmengine.logging import HistoryBuffer
    assert checkpoint_load.history_buffer_getattr(
        HistoryBuffer, 'mean') is HistoryBuffer.mean
    with pytest.raises(pickle.UnpicklingError, match='refusing'):
        checkpoint_load.history_buffer_getattr(HistoryBuffer, '__init__')
    with pytest.raises(pickle.UnpicklingError, match='refusing'):
        checkpoint_load.history_buffer_getattr(sys, 'exit')


@pytest.mark.parametrize('content, says', [
    (b'', 'is empty'),
    *[(random.Random(seed).randbytes(4096), 'is not a complete checkpoint')
      for seed in range(20)],
    ('truncated', 'is not a complete checkpoint'),
])
def test_a_damaged_checkpoint_is_named_and_not_called_unsafe(
        tmp_path, content, says):
    path = tmp_path / 'iter_2.pth'
    if content == 'truncated':
        torch.save(dict(state_dict=dict(w=torch.ones(1000))), path)
        content = path.read_bytes()[:len(path.read_bytes()) // 2]
    path.write_bytes(content)
    with pytest.raises(RuntimeError) as error:
        load_from_local(str(path))
    message = str(error.value)
    assert f'cannot load checkpoint {path}: it {says}' in message
    assert '--resume PATH' in message and 'arbitrary code' not in message


def test_a_missing_checkpoint_is_named(tmp_path):
    with pytest.raises(FileNotFoundError,
                       match=f'checkpoint .*{tmp_path}/none.pth.* does not'):
        load_from_local(str(tmp_path / 'none.pth'))


def test_an_unsafe_checkpoint_in_torchs_old_format_is_called_unsafe(
        tmp_path):
    path = tmp_path / 'old.pth'
    torch.save(dict(state_dict={}, evil=RunsCode()), path,
               _use_new_zipfile_serialization=False)
    with pytest.raises(pickle.UnpicklingError,
                       match='refusing to load checkpoint .*old.pth'):
        load_from_local(str(path))


def test_a_bit_flipped_in_a_tensor_is_refused_on_every_load_path(tmp_path):
    # torch.load itself does not check the CRC-32 of the zip's members.
    from mmengine.runner import Runner
    from mmengine.runner.checkpoint import _load_checkpoint
    from mmpretrain.apis import FeatureExtractor, get_model
    from toolkit import QUICKSTART, ROOT, flip_a_bit, tiny_nnclr_cfg

    from nnclr_mm.cli.publish import publish
    path = tmp_path / 'flipped.pth'
    torch.save(dict(state_dict=dict(w=torch.arange(100.0))), path)
    flip_a_bit(path)
    assert torch.load(path, weights_only=True)['state_dict']['w'][16] != 16
    message = rf'cannot load checkpoint {path}: it is damaged \(member '
    for load in (
            lambda: load_from_local(str(path)),
            lambda: _load_checkpoint(str(path)),  # resume, load_from
            lambda: get_model(f'{ROOT}/{QUICKSTART}', pretrained=str(path)),
            lambda: FeatureExtractor(f'{ROOT}/{QUICKSTART}',
                                     pretrained=str(path)),
            lambda: publish(str(path), str(tmp_path / 'out.pth')),
            lambda: Runner(model=tiny_nnclr_cfg(), work_dir=str(tmp_path),
                           default_scope='nnclr_mm').load_checkpoint(
                               str(path))):
        with pytest.raises(RuntimeError, match=message):
            load()


def test_a_checkpoint_without_checksums_loads_after_saying_so(tmp_path,
                                                               said):
    path = tmp_path / 'old.pth'
    torch.save(dict(w=torch.ones(2)), path,
               _use_new_zipfile_serialization=False)
    assert torch.equal(load_from_local(str(path))['w'], torch.ones(2))
    assert said == [f'{path} could not be verified: torch\'s pre-zip '
                    'format holds no checksums']
