# Weighted kNN (k = 200, T = 0.07; Wu et al. 2018) on ImageNet-1k for any
# mmpretrain SSL checkpoint of a ResNet-50:
#   python tools/knn_eval.py THIS_CONFIG CKPT
# The training set votes for the validation set (data/imagenet, as in
# mmpretrain's ImageNet configs).
_base_ = [
    'mmpretrain::_base_/models/resnet50.py',
    'mmpretrain::_base_/datasets/imagenet_bs32_pil_resize.py',
    'mmpretrain::_base_/default_runtime.py',
]
custom_imports = dict(imports=['nnclr_mm'], allow_failed_imports=False)

model = dict(head=None)
val_dataloader = dict(batch_size=256, num_workers=8)
val_cfg = dict(
    type='KNNValLoop',
    bank_dataloader=dict(
        batch_size=256,
        num_workers=8,
        persistent_workers=True,
        sampler=dict(type='DefaultSampler', shuffle=False),
        dataset=dict(
            type='ImageNet',
            data_root='data/imagenet',
            split='train',
            pipeline={{_base_.test_pipeline}})),
    k=200,
    temperature=0.07)
