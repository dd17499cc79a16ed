# lightly's example: plain SGD at lr 0.06 (no momentum, no weight decay,
# no schedule) for 10 epochs.
optim_wrapper = dict(
    type='OptimWrapper', optimizer=dict(type='SGD', lr=0.06))
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=10)
