# NNBYOL on ImageNet-1k: mmpretrain's BYOL recipe (ResNet-50, LARS, 200
# epochs at a total batch of 4096) with nearest-neighbour targets from the
# NNCLR paper's support set of 98,304 embeddings (Sec. 4.1), here target
# projections of BYOL's width 256.
_base_ = [
    'mmpretrain::byol/byol_resnet50_16xb256-coslr-200e_in1k.py',
    # tools/test.py: kNN of the backbone, training set votes for val.
    '../_base_/datasets/imagenet_knn.py',
    '../_base_/safety_hooks.py',
]

# The plugin's registries (mmpretrain's through their parents).
default_scope = 'nnclr_mm'
model = dict(
    type='NNBYOL',
    memory_bank=dict(type='NNMemoryBank', size=98304, feat_dim=256))
# Mixed precision (fp16 autocast, dynamic loss scaling), as large-batch
# recipes train: 2 views x 256 images of 224 px per GPU through the online
# and target ResNet-50s. Without a GPU, float32.
optim_wrapper = dict(type='AmpOptimWrapper', loss_scale='dynamic')
# The paper uses neighbours from the first step on.
custom_hooks = [dict(type='NNMemoryBankHook', warmup=0),
                *_base_.safety_hooks]
