import pytest
import torch
from mmpretrain.registry import MODELS
from toolkit import LIGHTLY, NN_VARIANTS_IN1K, PAPER, SHIPPED, load_config

import nnclr_mm  # noqa: F401


def test_all_configs_are_found():
    assert len(SHIPPED) >= 11, SHIPPED


def predictor_layers(head_cfg):
    """(in, out, bias) of each linear layer of the built predictor and the
    type of each of its norm layers."""
    head = MODELS.build(head_cfg)
    linears = [(m.in_features, m.out_features, m.bias is not None)
               for m in head.predictor.modules()
               if isinstance(m, torch.nn.Linear)]
    norms = [type(m).__name__ for m in head.predictor.modules()
             if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    return linears, norms


@pytest.mark.parametrize('name', SHIPPED)
def test_config_loads_and_builds(name):
    cfg = load_config(name)
    model = MODELS.build(cfg.model)
    assert sum(p.numel() for p in model.parameters()) > 1e6


def test_paper_recipe_values():
    cfg = load_config(PAPER)
    model = cfg.model
    assert model.backbone.depth == 50
    assert model.backbone.norm_cfg.type == 'SyncBN'
    assert (model.neck.hid_channels, model.neck.out_channels,
            model.neck.num_layers) == (2048, 256, 3)
    # Linear-BN-ReLU-Linear [4096, d], BN synchronised like the rest.
    assert predictor_layers(model.head) == ([(256, 4096, False),
                                             (4096, 256, True)],
                                            ['SyncBatchNorm'])
    assert model.head.loss.temperature == 0.1
    assert model.memory_bank.size == 98304
    assert cfg.train_dataloader.batch_size * 8 == 4096
    assert cfg.optim_wrapper.optimizer.type == 'LARS'
    # Mixed precision, as large-batch recipes train.
    assert (cfg.optim_wrapper.type, cfg.optim_wrapper.loss_scale) == (
        'AmpOptimWrapper', 'dynamic')
    assert cfg.optim_wrapper.optimizer.lr == pytest.approx(0.3 * 4096 / 256)
    assert cfg.optim_wrapper.optimizer.weight_decay == 1e-6
    assert cfg.train_cfg.max_epochs == 1000
    warmup, cosine = cfg.param_scheduler
    assert (warmup.type, warmup.end) == ('LinearLR', 10)
    assert (cosine.type, cosine.begin, cosine.end) == ('CosineAnnealingLR',
                                                       10, 1000)
    views = cfg.train_dataloader.dataset.pipeline[1].transforms
    blur = [t[-2].prob for t in views]
    solarize = [t[-1].prob for t in views]
    assert blur == [1.0, 0.1] and solarize == [0.0, 0.2]


def test_nnbyol_recipe_trains_in_mixed_precision():
    # 16 GPUs x 256 images; NNSiam's 8 x 32 keeps SimSiam's float32.
    nnbyol, nnsiam = (load_config(c) for c in NN_VARIANTS_IN1K)
    assert (nnbyol.optim_wrapper.type, nnbyol.optim_wrapper.loss_scale) == (
        'AmpOptimWrapper', 'dynamic')
    assert nnbyol.optim_wrapper.optimizer.type == 'LARS'
    assert nnsiam.optim_wrapper.type == 'OptimWrapper'


def test_lightly_recipe_values():
    cfg = load_config(LIGHTLY)
    model = cfg.model
    assert (model.neck.in_channels, model.neck.hid_channels,
            model.neck.out_channels) == (512, 512, 128)
    # lightly's NNCLRPredictionHead(128, 512, 128): Linear without bias,
    # BN, ReLU, Linear with bias.
    assert predictor_layers(model.head) == ([(128, 512, False),
                                             (512, 128, True)],
                                            ['BatchNorm1d'])
    assert (model.memory_bank.size, model.memory_bank.feat_dim) == (4096,
                                                                    128)
    assert model.head.loss == dict(
        type='NNCLRLoss', temperature=0.5, mode='ntxent')
    assert cfg.optim_wrapper.optimizer == dict(type='SGD', lr=0.06)
    assert cfg.train_dataloader.batch_size == 256
    assert cfg.train_dataloader.dataset.type == 'CIFAR10'


def test_lightly_recipe_initialises_its_backbone_like_torchvision():
    """lightly's example trains torchvision's resnet18 as constructed; the
    config's backbone must start from the same initialisation, not only
    have the same shapes (mmpretrain zero-initialises residual BNs)."""
    import torchvision
    cfg = load_config(LIGHTLY)
    model = MODELS.build(cfg.model)
    model.init_weights()
    reference = torchvision.models.resnet18()
    ours = dict(model.backbone.named_modules())
    for name, ref in reference.named_modules():
        if name in ('', 'avgpool', 'fc'):  # the backbone has neither
            continue
        module = ours[name]
        assert isinstance(module, type(ref)) or not isinstance(
            ref, (torch.nn.BatchNorm2d, torch.nn.Conv2d)), name
        if isinstance(ref, torch.nn.BatchNorm2d):
            assert (module.eps, module.momentum) == (ref.eps, ref.momentum)
            for key in ('weight', 'bias', 'running_mean', 'running_var'):
                assert torch.equal(getattr(module, key), getattr(ref, key)), \
                    f'{name}.{key}'
        elif isinstance(ref, torch.nn.Conv2d):
            # Kaiming normal, fan_out, in both: equal spread.
            ratio = module.weight.std() / ref.weight.std()
            assert abs(ratio.item() - 1) < 0.1, (name, ratio)

