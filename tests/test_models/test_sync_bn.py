import torch
from mmengine.model import convert_sync_batchnorm
from torch import nn

from nnclr_mm.models.utils.sync_bn import (
    CPUSyncBatchNorm,
    convert_sync_batchnorm_for_cpu,
)


def test_conversion_shares_parameters_and_buffers():
    model = convert_sync_batchnorm(
        nn.Sequential(nn.Conv2d(3, 4, 1), nn.BatchNorm2d(4), nn.ReLU(),
                      nn.Flatten(), nn.BatchNorm1d(16)), 'torch')
    before = {k: v for k, v in model.state_dict().items()}
    converted = convert_sync_batchnorm_for_cpu(model)
    kinds = [type(m) for m in converted.modules()]
    assert nn.SyncBatchNorm not in kinds
    assert kinds.count(CPUSyncBatchNorm) == 2
    after = converted.state_dict()
    assert after.keys() == before.keys()
    for key in before:
        assert after[key] is before[key] or after[key].data_ptr() == \
            before[key].data_ptr(), key


def test_without_a_process_group_it_is_plain_batch_norm():
    torch.manual_seed(0)
    plain = nn.BatchNorm2d(4, momentum=None)
    sync = convert_sync_batchnorm_for_cpu(nn.SyncBatchNorm(4, momentum=None))
    x = torch.randn(6, 4, 3, 3)
    for module in (plain, sync):
        module.train()
    torch.testing.assert_close(sync(x), plain(x))
    torch.testing.assert_close(sync.running_var, plain.running_var)
    plain.eval()
    sync.eval()
    torch.testing.assert_close(sync(x), plain(x))
