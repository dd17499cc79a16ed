# The 5-epoch schedule six times as long, the cosine spanning all 30
# epochs; kNN validation every 5.
_base_ = './sgd_coslr_5e.py'

max_epochs = 30
param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=max_epochs, by_epoch=True,
         begin=0, end=max_epochs, convert_to_iter_based=True)
]
train_cfg = dict(max_epochs=max_epochs, val_interval=5)
