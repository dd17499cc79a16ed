# mmpretrain's SimCLR on the 30-epoch NNCLR recipe's data, model size,
# schedule and kNN validation.
_base_ = './simclr_resnet18_1xb256-coslr-5e_fashion-mnist.py'

max_epochs = 30
param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=max_epochs, by_epoch=True,
         begin=0, end=max_epochs, convert_to_iter_based=True)
]
train_cfg = dict(max_epochs=max_epochs, val_interval=5)
