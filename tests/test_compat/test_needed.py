"""The fixes of mmengine releases apply up to the last broken one."""
import mmengine
import pytest

from nnclr_mm._compat import (
    atomic_checkpoint,
    checkpoint_fit,
    collate_scope,
    cpu_amp,
    mid_epoch_resume,
    train_data_size,
)


@pytest.mark.parametrize('fix', [atomic_checkpoint, checkpoint_fit,
                                 collate_scope, cpu_amp, mid_epoch_resume,
                                 train_data_size],
                         ids=lambda fix: fix.__name__.rpartition('.')[2])
@pytest.mark.parametrize('version, needed', [
    ('0.10.4', True),
    ('0.10.7', True),
    ('0.10.8', False),
    ('0.11.0', False),
])
def test_needed_up_to_mmengine_0_10_7(monkeypatch, fix, version, needed):
    assert fix.LAST_BROKEN_MMENGINE == '0.10.7'
    monkeypatch.setattr(mmengine, '__version__', version)
    # cpu_amp's breakage shows on machines without a GPU only.
    monkeypatch.setattr('mmengine.device.get_device', lambda: 'cpu')
    assert fix.needed() is needed
