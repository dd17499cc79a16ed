import math

import pytest
import torch
import torch.nn.functional as F
from mmpretrain.structures import DataSample
from toolkit import AUTOCAST_DTYPE

import nnclr_mm  # noqa: F401


def views(n=8, size=32, seed=1):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(n, 3, size, size, generator=g) for _ in range(2)]


def samples(labels):
    return [DataSample().set_gt_label(int(y)) for y in labels]


def param_grads(model):
    return {
        k: p.grad.clone()
        for k, p in model.named_parameters() if p.grad is not None
    }


def embed(model, inputs):
    """z of both views, computed outside NNCLR.loss."""
    return model.neck(model.backbone(torch.cat(inputs)))[0].detach()


def test_one_step_runs_and_loss_decreases_on_a_fixed_batch(build_tiny_nnclr,
                                                           device):
    model = build_tiny_nnclr().to(device)
    model.train()
    optim = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    inputs = [view.to(device) for view in views()]
    losses = []
    for _ in range(10):
        loss = model.loss(inputs, samples(range(8)))['loss']
        assert torch.isfinite(loss)
        optim.zero_grad()
        loss.backward()
        optim.step()
        losses.append(loss.item())
    # Step 0 sees an empty bank (own z as positive); from step 1 on the
    # positives are neighbours, and the loss must fall well below that.
    assert losses[-1] < 0.6 * losses[1], losses


def test_view_one_is_enqueued_after_the_loss(build_tiny_nnclr):
    model = build_tiny_nnclr()
    inputs = views()
    z = embed(model, inputs)
    model.loss(inputs, samples(range(8)))
    bank = model.memory_bank
    assert bank.num_filled.item() == 8
    torch.testing.assert_close(bank.bank[:8], F.normalize(z[8:], dim=1))
    assert bank.labels[:8].tolist() == list(range(8))


def test_positives_are_nearest_neighbours_in_the_bank(build_tiny_nnclr):
    model = build_tiny_nnclr(bank_size=16)
    stored = torch.randn(16, 32)
    model.memory_bank.enqueue(stored)
    inputs = views()
    z = embed(model, inputs)
    head_loss = model.head.loss
    seen = {}

    def spy(neighbours, predictions):
        seen['neighbours'] = torch.cat(neighbours)
        return head_loss(neighbours, predictions)

    model.head.loss = spy
    model.loss(inputs)
    nearest = (F.normalize(z, dim=1) @ F.normalize(stored, dim=1).T).argmax(1)
    torch.testing.assert_close(seen['neighbours'],
                               F.normalize(stored[nearest], dim=1))


def test_nn_acc_counts_same_class_neighbours(build_tiny_nnclr):
    model = build_tiny_nnclr(bank_size=16)
    stored = torch.randn(16, 32)
    stored_labels = torch.arange(16) % 3
    model.memory_bank.enqueue(stored, stored_labels)
    inputs = views()
    query_labels = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1])
    z = embed(model, inputs)
    nearest = (F.normalize(z, dim=1) @ F.normalize(stored, dim=1).T).argmax(1)
    expected = (stored_labels[nearest] == query_labels.repeat(2)).float()
    out = model.loss(inputs, samples(query_labels))
    assert out['nn_acc'].item() == pytest.approx(expected.mean().item())


def test_no_nn_acc_without_labels(build_tiny_nnclr):
    model = build_tiny_nnclr()
    model.memory_bank.enqueue(torch.randn(8, 32))
    assert set(model.loss(views())) == {'loss'}


def paper_loss_by_hand(anchors, targets, tau=0.1):
    logits = F.normalize(anchors, dim=1) @ F.normalize(targets, dim=1).T
    labels = torch.arange(len(anchors))
    return (F.cross_entropy(logits / tau, labels) +
            F.cross_entropy(logits.T / tau, labels)) / 2


def test_gradients_reach_z_only_through_the_predictor(build_tiny_nnclr):
    # During warm-up the positive is the sample's own z; the gradient must
    # equal that of the hand-written loss with z detached.
    model = build_tiny_nnclr()
    model.nn_positives = False
    inputs = views()
    model.loss(inputs)['loss'].backward()
    grads = param_grads(model)

    def hand_grads(detach):
        ref = build_tiny_nnclr()
        ref.load_state_dict(model.state_dict())
        z = ref.neck(ref.backbone(torch.cat(inputs)))[0]
        p = ref.head(z)
        pos = z.detach() if detach else z
        loss = (paper_loss_by_hand(pos[:8], p[8:]) +
                paper_loss_by_hand(pos[8:], p[:8])) / 2
        loss.backward()
        return param_grads(ref)

    detached = hand_grads(detach=True)
    assert detached.keys() == grads.keys()
    for name, grad in detached.items():
        torch.testing.assert_close(grads[name], grad, msg=name)
    attached = hand_grads(detach=False)
    name = 'neck.fc0.weight'
    assert not torch.allclose(attached[name], grads[name], atol=1e-6)


def test_tensor_mode_returns_backbone_features(build_tiny_nnclr):
    model = build_tiny_nnclr()
    model.eval()
    x = torch.randn(2, 3, 32, 32)
    feats = model(x, mode='tensor')
    assert len(feats) == 1 and feats[0].shape == (2, 512, 1, 1)
    torch.testing.assert_close(feats[0], model.backbone(x)[0])


def test_predictor_width_must_match_feat_dim(build_tiny_nnclr, tiny_cfg):
    from mmpretrain.registry import MODELS
    cfg = tiny_cfg()
    cfg['head']['predictor']['in_channels'] = 64
    with pytest.raises(ValueError, match='predictor takes 64'):
        MODELS.build(cfg)


def test_channels_last_changes_speed_not_math(build_tiny_nnclr, tiny_cfg):
    from mmpretrain.registry import MODELS
    torch.manual_seed(0)
    nhwc = MODELS.build(dict(tiny_cfg(), channels_last=True))
    reference = build_tiny_nnclr()
    reference.load_state_dict(nhwc.state_dict())
    assert nhwc.backbone.conv1.weight.is_contiguous(
        memory_format=torch.channels_last)
    inputs = views()
    loss = nhwc.loss(inputs)['loss']
    expected = reference.loss(inputs)['loss']
    torch.testing.assert_close(loss, expected, rtol=1e-4, atol=1e-5)
    loss.backward()
    expected.backward()
    # Another summation order: compare to the gradient's scale.
    grad = nhwc.backbone.conv1.weight.grad
    expected_grad = reference.backbone.conv1.weight.grad
    error = (grad - expected_grad).abs().max()
    assert error <= 1e-3 * expected_grad.abs().max(), error


def test_a_mixed_precision_step_keeps_a_unit_bank(tiny_cfg, device):
    # --amp's training step: mmengine's AmpOptimWrapper autocasts the data
    # preprocessor and the model (fp16 on CUDA, the CPU's bf16).
    from mmengine.optim import AmpOptimWrapper
    from mmpretrain.registry import MODELS
    cfg = tiny_cfg(bank_size=16)
    cfg['data_preprocessor'] = dict(
        type='SelfSupDataPreprocessor', mean=[72.94] * 3, std=[90.02] * 3)
    model = MODELS.build(cfg).to(device)
    model.memory_bank.enqueue(torch.randn(16, 32, device=device),
                              torch.arange(16, device=device) % 8)
    before = model.backbone.conv1.weight.detach().clone()
    optim = AmpOptimWrapper(
        optimizer=torch.optim.SGD(model.parameters(), lr=0.05),
        dtype=AUTOCAST_DTYPE[device.type])
    g = torch.Generator().manual_seed(1)
    data = dict(inputs=[torch.randint(0, 256, (8, 3, 32, 32), generator=g,
                                      dtype=torch.uint8) for _ in range(2)],
                data_samples=samples(range(8)))
    log = model.train_step(data, optim)
    assert math.isfinite(log['loss'].item()) and 0 <= log['nn_acc'] <= 1
    # Every row, 8 of them just enqueued from half-precision z, is a unit
    # vector of the float32 bank.
    bank = model.memory_bank.bank
    assert bank.dtype == torch.float32
    torch.testing.assert_close(bank.norm(dim=1), torch.ones(16, device=device))
    weight = model.backbone.conv1.weight
    assert torch.isfinite(weight).all() and not torch.equal(weight, before)


def test_a_backbone_that_pools_already_trains_with_the_neck(tiny_cfg):
    """mmpretrain's ConvNeXt returns pooled (N, C) features by default."""
    from mmpretrain.registry import MODELS
    cfg = tiny_cfg()
    cfg['backbone'] = dict(type='ConvNeXt', arch='atto')
    cfg['neck'].update(in_channels=320, with_avg_pool=False)
    model = MODELS.build(cfg)
    model.train()
    before = model.backbone.downsample_layers[0][0].weight.detach().clone()
    optim = torch.optim.SGD(model.parameters(), lr=0.1)
    loss = model.loss(views(n=4), samples(range(4)))['loss']
    assert torch.isfinite(loss)
    loss.backward()
    optim.step()
    after = model.backbone.downsample_layers[0][0].weight
    assert not torch.equal(before, after)
    assert model.memory_bank.num_filled.item() == 4


def test_pooled_features_with_avg_pool_on_name_the_key(tiny_cfg):
    from mmpretrain.registry import MODELS
    cfg = tiny_cfg()
    cfg['backbone'] = dict(type='ConvNeXt', arch='atto')
    cfg['neck'].update(in_channels=320)
    model = MODELS.build(cfg)
    with pytest.raises(ValueError, match=r'returns shape \(8, 320\); .* '
                       r'set model.neck.with_avg_pool=False'):
        model.loss(views(n=4))


def test_neck_width_mismatch_names_both_widths(tiny_cfg):
    from mmpretrain.registry import MODELS
    cfg = tiny_cfg()
    cfg['neck'].update(in_channels=2048)  # a ResNet-50 neck on ResNet-18
    model = MODELS.build(cfg)
    with pytest.raises(ValueError, match=r'backbone outputs 512 channels .*'
                       r'model.neck.in_channels is 2048; set '
                       r'model.neck.in_channels=512'):
        model.loss(views(n=4))
