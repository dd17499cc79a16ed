# mmpretrain's SimSiam on the NNCLR quickstart's data, backbone, schedule and
# kNN validation, to compare the methods side by side.
_base_ = [
    '../_base_/models/simsiam_resnet18.py',
    '../_base_/datasets/fashion_mnist_bs256_simclr.py',
    '../_base_/schedules/sgd_coslr_5e.py',
    '../_base_/default_runtime.py',
]

# SimSiam's predictor keeps the initial learning rate (its paper, Sec. 4.1
# and mmpretrain's recipe), reset before every iteration because the cosine
# schedule is iteration-based.
optim_wrapper = dict(
    paramwise_cfg=dict(custom_keys={'predictor': dict(fix_lr=True)}))
custom_hooks = [
    dict(type='SimSiamHook', priority='HIGH', fix_pred_lr=True,
         lr=_base_.optim_wrapper.optimizer.lr, adjust_by_epoch=False),
    *_base_.custom_hooks,
]
