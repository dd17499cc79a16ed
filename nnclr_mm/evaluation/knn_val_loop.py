from typing import Dict, List, Sequence, Tuple, Union

import torch
from mmengine.dist import broadcast_object_list, collect_results
from mmengine.runner import ValLoop
from mmpretrain.registry import LOOPS
from torch.utils.data import DataLoader

from .features import check_features, embed_batch
from .knn import weighted_knn_scores


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
    beat.

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
        fp16 (bool): Extract features under autocast. Defaults to False.
    """

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 evaluator: Union[Dict, List],
                 bank_dataloader: Union[DataLoader, Dict],
                 k: int = 200,
                 temperature: float = 0.07,
                 features: str = 'backbone',
                 fp16: bool = False) -> None:
        check_features('KNNValLoop', features)
        super().__init__(runner, dataloader, evaluator, fp16)
        self.features = features
        if isinstance(bank_dataloader, dict):
            bank_dataloader = runner.build_dataloader(
                bank_dataloader, seed=runner.seed)
        self.bank_dataloader = bank_dataloader
        self.k = k
        self.temperature = temperature

    def embed(self, data_batch: dict) -> Tuple[torch.Tensor, Sequence]:
        """L2-normalised features of one batch, see :func:`embed_batch`."""
        return embed_batch(self.runner.model, data_batch, self.features,
                           self.fp16)

    def bank(self) -> Tuple[torch.Tensor, torch.Tensor]:
        """Features and labels of the whole bank set, on every rank."""
        local = []
        for data_batch in self.bank_dataloader:
            feats, samples = self.embed(data_batch)
            local += [(f.cpu(), s.gt_label.item())
                      for f, s in zip(feats, samples)]
        gathered = [
            collect_results(local, len(self.bank_dataloader.dataset), 'cpu')
        ]
        broadcast_object_list(gathered)
        feats, labels = zip(*gathered[0])
        return torch.stack(feats), torch.tensor(labels)

    def run(self) -> dict:
        """Embed the bank, classify the held-out set, return the metrics."""
        self.runner.call_hook('before_val')
        self.runner.call_hook('before_val_epoch')
        self.runner.model.eval()
        bank_feats, bank_labels = self.bank()
        classes = self.bank_dataloader.dataset.metainfo.get('classes')
        num_classes = len(classes) if classes else int(bank_labels.max()) + 1
        device = next(self.runner.model.parameters()).device
        bank_feats, bank_labels = bank_feats.to(device), bank_labels.to(device)
        for idx, data_batch in enumerate(self.dataloader):
            self.runner.call_hook(
                'before_val_iter', batch_idx=idx, data_batch=data_batch)
            feats, samples = self.embed(data_batch)
            scores = weighted_knn_scores(feats, bank_feats, bank_labels,
                                         num_classes, self.k, self.temperature)
            for sample, score in zip(samples, scores):
                sample.set_pred_score(score)
            self.evaluator.process(data_samples=samples, data_batch=data_batch)
            self.runner.call_hook(
                'after_val_iter',
                batch_idx=idx,
                data_batch=data_batch,
                outputs=samples)
        metrics = self.evaluator.evaluate(len(self.dataloader.dataset))
        # 'accuracy/top1' -> 'knn_top1'
        metrics = {
            f'knn_{name.rsplit("/", 1)[-1]}': value
            for name, value in metrics.items()
        }
        self.runner.call_hook('after_val_epoch', metrics=metrics)
        self.runner.call_hook('after_val')
        return metrics
