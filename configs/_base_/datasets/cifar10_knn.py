# kNN evaluation on CIFAR-10 as the runner's test loop (tools/test.py):
# weighted kNN (Wu et al. 2018, k = 200, T = 0.07) on backbone features,
# the 50,000 training images vote for the 10,000 test images, at 32 px.
# CIFAR-10's python version in data/cifar10, read by mmpretrain's CIFAR10.
knn_loader = dict(
    batch_size=512,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'))
test_dataloader = dict(
    **knn_loader,
    dataset=dict(type='CIFAR10', data_root='data/cifar10', split='test',
                 pipeline=[dict(type='PackInputs')]))
test_evaluator = dict(type='Accuracy', topk=(1, 5))
# The bank: the same loader on the training split.
test_cfg = dict(
    type='KNNTestLoop',
    bank_dataloader=dict(
        test_dataloader,
        dataset=dict(test_dataloader['dataset'], split='train')),
    k=200,
    temperature=0.07)
