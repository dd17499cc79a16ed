# NNSiam on ImageNet-1k: mmpretrain's SimSiam recipe (ResNet-50, SGD, 100
# epochs at a total batch of 256, fixed predictor learning rate) with
# nearest-neighbour targets from the NNCLR paper's support set of 98,304
# embeddings (Sec. 4.1), here projections of SimSiam's width 2048.
_base_ = [
    'mmpretrain::simsiam/simsiam_resnet50_8xb32-coslr-100e_in1k.py',
    # tools/test.py: kNN of the backbone, training set votes for val.
    '../_base_/datasets/imagenet_knn.py',
    '../_base_/safety_hooks.py',
]

# The plugin's registries (mmpretrain's through their parents).
default_scope = 'nnclr_mm'
model = dict(
    type='NNSiam',
    memory_bank=dict(type='NNMemoryBank', size=98304, feat_dim=2048))
# The paper uses neighbours from the first step on.
custom_hooks = [dict(type='NNMemoryBankHook', warmup=0),
                *_base_.custom_hooks, *_base_.safety_hooks]
