from typing import Dict, List, Sequence, Tuple, Union

import torch
from mmengine.dist import get_world_size
from mmengine.hooks import LoggerHook
from mmengine.logging import print_log
from mmengine.runner import ValLoop
from torch.utils.data import DataLoader

from ..._validation import check_choice
from ...evaluation.features import FEATURES, embed_batch
from ...evaluation.knn import weighted_knn_scores
from ...models.utils.gather import gather_rows
from ...registry import LOOPS


@LOOPS.register_module()
class KNNValLoop(ValLoop):
    """Validation by a weighted kNN classifier on frozen backbone features.

    The runner's own validation for self-supervised models: every
    ``val_interval`` it embeds ``bank_dataloader`` (labelled training
    images) and ``dataloader`` (held-out images) with the model's backbone
    (global average pooled, L2-normalised), classifies the held-out images
    by :func:`weighted_knn_scores`, feeds the scores to ``val_evaluator``
    (e.g. mmpretrain's ``Accuracy``) and logs its metrics as ``knn_top1``,
    ``knn_top5``, ... mmselfsup had this protocol as a tool; mmpretrain has
    none. With ``features='pixels'`` the same classifier runs on the
    preprocessed images themselves: the baseline any representation should
    beat. :class:`KNNTestLoop` is the same evaluation as the runner's test
    loop (``tools/test.py``).

    Both passes log their progress: the bank every ``LoggerHook.interval``
    batches, the held-out set through the runner's ``LoggerHook``.

    Args:
        runner (Runner): The runner.
        dataloader (DataLoader or dict): Held-out images with labels.
        evaluator (Evaluator or dict or list): Metric on the kNN scores.
        bank_dataloader (DataLoader or dict): Labelled images whose
            features vote.
        k (int): Neighbours. Defaults to 200.
        temperature (float): Vote temperature. Defaults to 0.07.
        features (str): ``'backbone'``, ``'neck'`` (NNCLR's z) or
            ``'pixels'``, see :func:`embed_batch`. Defaults to
            ``'backbone'``.
        fp16 (bool): Extract features under autocast and keep the bank in
            float16, half the memory of float32 (ImageNet's 1.28M x 2048
            bank: 5.2 GB instead of 10.5 GB on every rank). Defaults to
            False.
    """

    #: Which of the runner's hooks the loop calls: ``before_val`` ...
    stage = 'val'

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 evaluator: Union[Dict, List],
                 bank_dataloader: Union[DataLoader, Dict],
                 k: int = 200,
                 temperature: float = 0.07,
                 features: str = 'backbone',
                 fp16: bool = False) -> None:
        check_choice('KNNValLoop', 'features', features, FEATURES)
        super().__init__(runner, dataloader, evaluator, fp16)
        self.features = features
        if isinstance(bank_dataloader, dict):
            bank_dataloader = runner.build_dataloader(
                bank_dataloader, seed=runner.seed)
        self.bank_dataloader = bank_dataloader
        self.k = k
        self.temperature = temperature

    def embed(self, data_batch: dict) -> Tuple[torch.Tensor, Sequence]:
        """L2-normalised features of one batch, see :func:`embed_batch`.

        Args:
            data_batch (dict): A batch as the dataloader yields it.

        Returns:
            tuple[Tensor, Sequence]: ``(N, C)`` features and the data
            samples.
        """
        return embed_batch(self.runner.model, data_batch, self.features,
                           self.fp16)

    def bank(self) -> Tuple[torch.Tensor, torch.Tensor]:
        """Features and labels of the whole bank set, in the dataset's
        order, on every rank and on the model's device.

        Each rank embeds its share; features (float16 with ``fp16``),
        labels and dataset indices are gathered as batched tensors, and
        the samples a distributed sampler repeats to even out the shares
        land on their own row once.
        """
        feats, labels, indices, seen = [], [], [], 0
        num_batches = len(self.bank_dataloader)
        interval = next((hook.interval for hook in self.runner.hooks
                         if isinstance(hook, LoggerHook)), 50)
        dtype = torch.float16 if self.fp16 else torch.float32
        for idx, data_batch in enumerate(self.bank_dataloader):
            batch_feats, samples = self.embed(data_batch)
            feats.append(batch_feats.to(dtype))
            labels.append(torch.cat([s.gt_label for s in samples]))
            indices.append(self._dataset_indices(samples, seen))
            seen += len(samples)
            if (idx + 1) % interval == 0 or idx + 1 == num_batches:
                print_log(f'kNN bank ({self.stage}): embedded batch '
                          f'[{idx + 1}/{num_batches}]', logger='current')
        device = feats[0].device
        feats = gather_rows(torch.cat(feats))
        labels = gather_rows(torch.cat(labels).to(device))
        indices = gather_rows(torch.cat(indices).to(device))
        size = len(self.bank_dataloader.dataset)
        bank_feats = feats.new_empty(size, feats.size(1))
        bank_labels = labels.new_full((size, ), -1)
        bank_feats[indices] = feats
        bank_labels[indices] = labels
        return bank_feats, bank_labels

    @staticmethod
    def _dataset_indices(samples: Sequence, seen: int) -> torch.Tensor:
        """The dataset index of each sample: its ``sample_idx``
        (mmengine's datasets set it, ``PackInputs`` keeps it), else, in one
        process, its position in the loader."""
        if all('sample_idx' in s for s in samples):
            return torch.tensor([s.sample_idx for s in samples])
        if get_world_size() > 1:
            raise ValueError(
                'KNNValLoop: the bank_dataloader\'s samples carry no '
                'sample_idx, needed to put the features of several '
                'processes in order; use a dataset derived from mmengine\'s '
                'BaseDataset and keep sample_idx in PackInputs\' meta_keys')
        return torch.arange(seen, seen + len(samples))

    def run(self) -> dict:
        """Embed the bank, classify the held-out set, return the metrics."""
        stage = self.stage
        self.runner.call_hook(f'before_{stage}')
        self.runner.call_hook(f'before_{stage}_epoch')
        self.runner.model.eval()
        bank_feats, bank_labels = self.bank()
        classes = self.bank_dataloader.dataset.metainfo.get('classes')
        num_classes = len(classes) if classes else int(bank_labels.max()) + 1
        for idx, data_batch in enumerate(self.dataloader):
            self.runner.call_hook(
                f'before_{stage}_iter', batch_idx=idx, data_batch=data_batch)
            feats, samples = self.embed(data_batch)
            scores = weighted_knn_scores(feats, bank_feats, bank_labels,
                                         num_classes, self.k, self.temperature,
                                         normalized=True)
            for sample, score in zip(samples, scores):
                sample.set_pred_score(score)
            self.evaluator.process(data_samples=samples, data_batch=data_batch)
            self.runner.call_hook(
                f'after_{stage}_iter',
                batch_idx=idx,
                data_batch=data_batch,
                outputs=samples)
        metrics = self.evaluator.evaluate(len(self.dataloader.dataset))
        # 'accuracy/top1' -> 'knn_top1'
        metrics = {
            f'knn_{name.rsplit("/", 1)[-1]}': value
            for name, value in metrics.items()
        }
        self.runner.call_hook(f'after_{stage}_epoch', metrics=metrics)
        self.runner.call_hook(f'after_{stage}')
        return metrics


@LOOPS.register_module()
class KNNTestLoop(KNNValLoop):
    """:class:`KNNValLoop` as the runner's test loop (``test_cfg``), so that
    ``tools/test.py CONFIG CHECKPOINT`` evaluates a self-supervised
    checkpoint by kNN; it calls the runner's test hooks.

    Examples:
        >>> test_cfg = dict(type='KNNTestLoop', k=200, temperature=0.07,
        ...                 bank_dataloader=...)  # labelled training images
    """

    stage = 'test'
