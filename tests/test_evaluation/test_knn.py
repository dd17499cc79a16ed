"""The weighted kNN vote and the kNN loops that run it."""
import glob
import math

import numpy as np
import pytest
import torch
from mmengine.runner import Runner
from mmpretrain.datasets import BaseDataset
from mmpretrain.registry import DATASETS

from nnclr_mm.evaluation import weighted_knn_scores


def hand_made_case(device):
    """A bank on the unit circle (class 0 near 0 degrees, class 1 near 90),
    a query at ~28.6 degrees, and its k = 3, T = 0.5 scores by hand."""
    angles = torch.tensor([0.0, 10.0, 80.0, 90.0, 100.0]) * math.pi / 180
    bank = torch.stack([angles.cos(), angles.sin()], 1).to(device)
    labels = torch.tensor([0, 0, 1, 1, 1], device=device)
    query = torch.tensor([[math.cos(0.5), math.sin(0.5)]], device=device)
    # The 3 nearest are at 10, 0 and 80 degrees.
    sims = {d: math.cos(0.5 - d * math.pi / 180) for d in (0, 10, 80)}
    w0 = math.exp(sims[0] / 0.5) + math.exp(sims[10] / 0.5)
    w1 = math.exp(sims[80] / 0.5)
    expected = torch.tensor([[w0, w1]], device=device) / (w0 + w1)
    return query, bank, labels, expected


def test_weighted_knn_on_a_hand_made_feature_set(device):
    query, bank, labels, expected = hand_made_case(device)
    scores = weighted_knn_scores(query, bank, labels, 2, k=3,
                                 temperature=0.5)
    torch.testing.assert_close(scores, expected)


def test_a_normalized_float16_bank_is_searched_as_given(device):
    # KNNValLoop's fp16 bank: unit rows in float16, searched in float16
    # without a float32 copy; only the rounding of the similarities moves
    # the scores (float16: 2 ** -11 relative, times 1 / T in the vote).
    query, bank, labels, expected = hand_made_case(device)
    scores = weighted_knn_scores(query, bank.half(), labels, 2, k=3,
                                 temperature=0.5, normalized=True)
    assert scores.dtype == torch.float32
    torch.testing.assert_close(scores, expected, rtol=0, atol=2e-3)


def test_temperature_sharpens_votes():
    bank = torch.eye(3)
    labels = torch.tensor([0, 1, 1])
    query = torch.tensor([[1.0, 0.9, 0.0]])
    # Two class-1 votes outweigh one closer class-0 vote at high T only.
    hot = weighted_knn_scores(query, bank, labels, 2, k=3, temperature=10.0)
    cold = weighted_knn_scores(query, bank, labels, 2, k=3, temperature=0.01)
    assert hot.argmax().item() == 1 and cold.argmax().item() == 0


def test_k_larger_than_bank_uses_the_whole_bank():
    scores = weighted_knn_scores(torch.ones(1, 2), torch.eye(2),
                                 torch.tensor([0, 1]), 2, k=200)
    torch.testing.assert_close(scores, torch.tensor([[0.5, 0.5]]))


def test_bad_temperature_names_the_argument():
    with pytest.raises(ValueError, match='temperature must be > 0'):
        weighted_knn_scores(torch.ones(1, 2), torch.eye(2),
                            torch.tensor([0, 1]), 2, temperature=0)


@DATASETS.register_module(force=True)
class OneHotImages(BaseDataset):
    """4x4 images with one bright pixel at ``positions``, for the kNN."""

    def __init__(self, positions, labels, **kwargs):
        self.positions, self.labels = positions, labels
        super().__init__(ann_file='', pipeline=[dict(type='PackInputs')],
                         **kwargs)

    def load_data_list(self):
        data = []
        for pos, label in zip(self.positions, self.labels):
            img = np.zeros((4, 4, 3), np.uint8)
            img.reshape(-1, 3)[pos] = 255
            data.append(dict(img=img, gt_label=label))
        return data


def test_knn_loop_gives_the_known_answer_on_hand_made_features(
        tmp_path, tiny_cfg):
    loader = dict(
        batch_size=2,
        sampler=dict(type='DefaultSampler', shuffle=False),
        collate_fn=dict(type='default_collate'))
    classes = dict(classes=('a', 'b'))
    # With k = 1 every held-out image takes the label of the bank image
    # with the same bright pixel: positions 0, 2, 3 agree, 1 does not.
    runner = Runner(
        model=tiny_cfg(),
        work_dir=str(tmp_path),
        val_dataloader=dict(
            **loader,
            dataset=dict(type='OneHotImages', positions=[0, 1, 2, 3],
                         labels=[0, 1, 1, 1], metainfo=classes)),
        val_cfg=dict(
            type='KNNValLoop',
            bank_dataloader=dict(
                **loader,
                dataset=dict(type='OneHotImages', positions=[0, 1, 2, 3],
                             labels=[0, 0, 1, 1], metainfo=classes)),
            k=1,
            features='pixels'),
        val_evaluator=dict(type='Accuracy', topk=(1, 2)),
        default_scope='mmpretrain')
    metrics = runner.val()
    # With k = 1 the other class gets no vote (score 0), and mmpretrain's
    # Accuracy counts only positive scores, so top-2 equals top-1 here.
    assert metrics == {'knn_top1': 75.0, 'knn_top2': 75.0}
    # Both passes report progress: the bank's 2 batches, then the held-out.
    (log, ) = glob.glob(str(tmp_path / '*' / '*.log'))
    text = open(log).read()
    assert 'kNN bank (val): embedded batch [2/2]' in text
    assert text.index('embedded batch [2/2]') < text.index('knn_top1: 75')


def bank_runner(work_dir):
    """A runner whose kNN bank is 7 labelled images of distinct pixels,
    embedded as pixels in batches of 2."""
    from toolkit import tiny_nnclr_cfg

    import nnclr_mm  # noqa: F401
    loader = dict(batch_size=2,
                  sampler=dict(type='DefaultSampler', shuffle=False),
                  collate_fn=dict(type='default_collate'))
    images = dict(type='OneHotImages', positions=list(range(7)),
                  labels=[0, 1, 1, 0, 1, 0, 1], metainfo=dict(classes='ab'))
    return Runner(
        model=tiny_nnclr_cfg(),
        work_dir=str(work_dir),
        val_dataloader=dict(**loader, dataset=images),
        val_cfg=dict(type='KNNValLoop', features='pixels',
                     bank_dataloader=dict(**loader, dataset=images)),
        val_evaluator=dict(type='Accuracy'),
        default_scope='mmpretrain')


def bank_worker(rank, port, out_dir):
    import os

    import torch.distributed as torch_dist
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    torch_dist.init_process_group('gloo', rank=rank, world_size=2)
    try:
        feats, labels = bank_runner(f'{out_dir}/rank{rank}').val_loop.bank()
        torch.save(dict(feats=feats, labels=labels),
                   f'{out_dir}/bank{rank}.pt')
    finally:
        torch_dist.destroy_process_group()


def test_two_processes_gather_the_bank_of_one(tmp_path):
    # 7 images over 2 ranks: the sampler gives rank 1 image 0 again to even
    # out the shares; the gathered bank holds each image once, in order.
    import torch.multiprocessing as mp
    from toolkit import free_port
    mp.start_processes(bank_worker, args=(free_port(), str(tmp_path)),
                       nprocs=2, start_method='spawn')
    feats, labels = bank_runner(tmp_path / 'single').val_loop.bank()
    assert labels.tolist() == [0, 1, 1, 0, 1, 0, 1]
    for rank in range(2):
        gathered = torch.load(tmp_path / f'bank{rank}.pt', weights_only=True)
        assert torch.equal(gathered['feats'], feats)
        assert torch.equal(gathered['labels'], labels)


def test_knn_loop_rejects_unknown_features(tmp_path, tiny_cfg):
    from nnclr_mm.engine import KNNValLoop
    with pytest.raises(ValueError, match="features must be one of.*'logits'"):
        KNNValLoop(
            Runner(
                model=tiny_cfg(),
                work_dir=str(tmp_path),
                default_scope='mmpretrain'),
            dataloader=[],
            evaluator=[],
            bank_dataloader=[],
            features='logits')
