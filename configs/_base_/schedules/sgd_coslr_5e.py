# SGD (lr 0.06 per 256 images, momentum 0.9, weight decay 5e-4) with
# cosine decay over 5 epochs, kNN validation after each.
max_epochs = 5
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.06, momentum=0.9, weight_decay=5e-4))
param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=max_epochs, by_epoch=True,
         begin=0, end=max_epochs, convert_to_iter_based=True)
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs,
                 val_interval=1)
# --auto-scale-lr rescales lr when the total batch is not 256.
auto_scale_lr = dict(base_batch_size=256)
