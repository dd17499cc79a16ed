import pytest
import torch
from mmengine.runner import Runner
from mmpretrain.structures import DataSample
from toolkit import tiny_nn_variant_cfg, tiny_nnclr_cfg
from torch.utils.data import Dataset


class TwoViews(Dataset):
    """Random two-view 32 px samples with labels, as a pipeline yields."""

    metainfo = dict(classes=('a', 'b', 'c', 'd'))

    def __len__(self):
        return 32

    def __getitem__(self, i):
        g = torch.Generator().manual_seed(i)
        return dict(
            inputs=[torch.rand(3, 32, 32, generator=g) for _ in range(2)],
            data_samples=DataSample().set_gt_label(i % 4))


def make_runner(model, tmp_path, warmup, iters=4):
    import nnclr_mm  # noqa: F401
    return Runner(
        model=model,
        work_dir=str(tmp_path),
        train_dataloader=dict(
            dataset=TwoViews(),
            sampler=dict(type='DefaultSampler', shuffle=True),
            batch_size=8,
            collate_fn=dict(type='default_collate')),
        train_cfg=dict(by_epoch=False, max_iters=iters),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        custom_hooks=[dict(type='NNMemoryBankHook', warmup=warmup)],
        default_hooks=dict(logger=dict(type='LoggerHook', interval=1)),
        default_scope='mmpretrain',
        randomness=dict(seed=0))


def history(runner, key):
    return runner.message_hub.get_scalar(key).data[0].tolist()


@pytest.mark.parametrize('method', ['NNCLR', 'NNBYOL', 'NNSiam'])
def test_hook_switches_to_neighbours_after_warmup(method, tmp_path):
    model = (tiny_nnclr_cfg(bank_size=64) if method == 'NNCLR' else
             tiny_nn_variant_cfg(method, bank_size=64))
    runner = make_runner(model, tmp_path, warmup=16)
    runner.train()
    # Batch 8: the bank holds 0, 8, 16, 24 entries before iterations 0-3.
    assert history(runner, 'train/nn_positives') == [0, 0, 1, 1]
    assert history(runner, 'train/bank_fill') == [
        8 / 64, 16 / 64, 24 / 64, 32 / 64
    ]
    # nn_acc is logged only while positives are neighbours.
    assert len(history(runner, 'train/nn_acc')) == 2


def test_warmup_larger_than_bank_is_a_clear_error(tiny_cfg, tmp_path):
    runner = make_runner(tiny_cfg(bank_size=64), tmp_path, warmup=65)
    with pytest.raises(ValueError, match=r'warmup \(65\).*size \(64\)'):
        runner.train()


def test_a_model_without_support_set_is_named(tmp_path):
    model = tiny_nn_variant_cfg('NNBYOL')
    model.pop('memory_bank')
    runner = make_runner(dict(model, type='BYOL'), tmp_path, warmup=0)
    with pytest.raises(TypeError, match=r'needs a model with a support set '
                       r'.*NNBYOL.*got BYOL'):
        runner.train()


def test_negative_warmup_is_a_clear_error():
    from nnclr_mm import NNMemoryBankHook
    with pytest.raises(ValueError, match='warmup must be'):
        NNMemoryBankHook(warmup=-1)


@pytest.mark.parametrize('warmup, warned', [(24, False), (32, True)])
def test_a_warmup_the_run_never_ends_is_named_at_start(tiny_cfg, tmp_path,
                                                        capfd, warmup,
                                                        warned):
    # 4 iterations of 8: the bank holds 24 entries before the last one.
    runner = make_runner(tiny_cfg(bank_size=64), tmp_path, warmup=warmup)
    runner.train()
    out = capfd.readouterr().out
    used = history(runner, 'train/nn_positives')[-1] == 1
    assert used is not warned
    assert ('warmup=32 embeddings only after 4 iterations of the global '
            'batch 8, but the run has 4 left: neighbours are never used'
            in out) is warned
