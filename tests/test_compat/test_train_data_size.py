"""A training set smaller than one batch (mmengine <= 0.10.7 builds the
loop unchecked): unfixed, the scheduler fails with an unrelated message;
fixed, the sizes and keys are named (tests/test_errors.py)."""
import pytest
from mmengine.runner import Runner
from toolkit import NO_VALIDATION, QUICKSTART, tiny_config

from nnclr_mm._compat import train_data_size


@pytest.mark.skipif(not train_data_size.needed(),
                    reason='a fixed mmengine: not fixed')
def test_unpatched_runner_reports_an_empty_epoch_obscurely(
        tmp_path, monkeypatch):
    monkeypatch.setattr(Runner, 'build_train_loop',
                        Runner.build_train_loop.__wrapped__)
    cfg = tiny_config(QUICKSTART, batch_size=16, **NO_VALIDATION,
                      train_dataloader=dict(dataset=dict(indices=10)),
                      work_dir=str(tmp_path))
    with pytest.raises(AssertionError,
                       match='epoch_length. must be a positive integer'):
        Runner.from_cfg(cfg).train()
