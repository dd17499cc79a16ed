# Weighted kNN (k = 200, T = 0.07; Wu et al. 2018) on ImageNet-1k for any
# mmpretrain SSL checkpoint of a ResNet-50:
#   python tools/analysis_tools/knn_eval.py THIS_CONFIG CKPT
#   python tools/test.py THIS_CONFIG CKPT
# The training set votes for the validation set (data/imagenet, as in
# mmpretrain's ImageNet configs).
_base_ = [
    'mmpretrain::_base_/models/resnet50.py',
    'mmpretrain::_base_/default_runtime.py',
    '../../_base_/datasets/imagenet_knn.py',
]
custom_imports = dict(imports=['nnclr_mm'], allow_failed_imports=False)

model = dict(head=None)
data_preprocessor = dict(
    mean=[123.675, 116.28, 103.53],  # ImageNet statistics, RGB
    std=[58.395, 57.12, 57.375],
    to_rgb=True)
# tools/analysis_tools/knn_eval.py runs the same kNN as the validation loop.
val_dataloader = {{_base_.test_dataloader}}
val_evaluator = {{_base_.test_evaluator}}
val_cfg = dict(
    type='KNNValLoop',
    bank_dataloader={{_base_.test_cfg.bank_dataloader}},
    k=200,
    temperature=0.07)
