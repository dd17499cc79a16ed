"""NNBYOL and NNSiam against brute force, hand-written losses and their
mmpretrain parents (BYOL, SimSiam); what all SupportSetMixin models share,
NNCLR included."""
import copy
from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F
from mmengine.logging import MessageHub
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from toolkit import tiny_nn_variant_cfg, tiny_nnclr_cfg
from torch import nn

import nnclr_mm  # noqa: F401

METHODS = ['NNBYOL', 'NNSiam']
#: Every model on SupportSetMixin, for what they share.
ALL = ['NNCLR', *METHODS]
PARENT = dict(NNBYOL='BYOL', NNSiam='SimSiam')
N = 8


def build(method, **kwargs):
    """A tiny model; NNBYOL's target network as after some steps, no longer
    a copy of the online one (BYOL copies it at its first update)."""
    torch.manual_seed(0)
    cfg = (tiny_nnclr_cfg(**kwargs) if method == 'NNCLR' else
           tiny_nn_variant_cfg(method, **kwargs))
    model = MODELS.build(cfg)
    if method == 'NNBYOL':
        # The momentum's cosine schedule reads the run's length.
        MessageHub.get_current_instance().update_info('max_iters', 10)
        model.target_net.steps.fill_(1)
        with torch.no_grad():
            for param in model.target_net.parameters():
                param.add_(0.05 * torch.randn_like(param))
    return model


def views(seed=1):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(N, 3, 32, 32, generator=g) for _ in range(2)]


def samples(labels):
    return [DataSample().set_gt_label(int(y)) for y in labels]


def prefill(model, rows=40, seed=2):
    g = torch.Generator().manual_seed(seed)
    device = model.memory_bank.bank.device
    stored = torch.randn(rows, 32, generator=g).to(device)
    labels = (torch.arange(rows) % 3).to(device)
    model.memory_bank.enqueue(stored, labels)
    return F.normalize(stored, dim=1), labels


def grads(model):
    return {
        k: p.grad.clone()
        for k, p in model.named_parameters() if p.grad is not None
    }


def by_hand(model, inputs):
    """What a step computes, written out on a copy of ``model`` taken
    before it: the online projections and predictions of both views, and
    the searched embeddings (BYOL: the target network's projections after
    its momentum update; SimSiam: the projections, detached)."""
    ref = copy.deepcopy(model)
    online = [ref.neck(ref.backbone(v))[0] for v in inputs]
    if isinstance(ref, MODELS.get('NNBYOL')):
        with torch.no_grad():
            ref.target_net.update_parameters(
                nn.Sequential(ref.backbone, ref.neck))
            searched = torch.cat([ref.target_net(v)[0] for v in inputs])
    else:
        searched = torch.cat(online).detach()
    predictions = [ref.head.predictor([z])[0] for z in online]
    return ref, online, predictions, searched


def prepared_step(method, device='cpu'):
    """A model on ``device`` with a prefilled bank, a batch, and the step
    written out: ``ref``, ``online``, ``predictions``, ``searched`` of
    :func:`by_hand`, and the brute-force ``nearest`` stored row of each
    searched embedding.
    """
    model = build(method).to(device)
    stored, stored_labels = prefill(model)
    inputs = [view.to(device) for view in views()]
    ref, online, predictions, searched = by_hand(model, inputs)
    nearest = (F.normalize(searched, dim=1) @ stored.T).argmax(1)
    return SimpleNamespace(model=model, stored=stored,
                           stored_labels=stored_labels, inputs=inputs,
                           ref=ref, online=online, predictions=predictions,
                           searched=searched, nearest=nearest)


def neg_cos(p, target):
    return -(F.normalize(p, dim=1) * F.normalize(target, dim=1)).sum(1).mean()


def hand_loss(method, predictions, positives):
    """BYOL: 2 (L(q0, t1) + L(q1, t0)); SimSiam: (L(q0, t1) + L(q1, t0))
    / 2; L the negative cosine, positives of view 0 first."""
    t0, t1 = positives.chunk(2)
    total = neg_cos(predictions[0], t1) + neg_cos(predictions[1], t0)
    return 2 * total if method == 'NNBYOL' else total / 2


@pytest.mark.parametrize('method', METHODS)
def test_positives_are_brute_force_neighbours_and_the_loss_is_by_hand(
        method, device):
    step = prepared_step(method, device)
    positives = step.stored[step.nearest]
    expected = hand_loss(method, step.predictions, positives)
    seen = []
    head_loss = step.model.head.loss
    step.model.head.loss = lambda x, target: seen.append(
        target) or head_loss(x, target)
    loss = step.model.loss(step.inputs)['loss']
    # Targets in the order of the loss: view 1's for view 0, then view 0's.
    torch.testing.assert_close(torch.cat(seen[::-1]), positives)
    torch.testing.assert_close(loss, expected)


@pytest.mark.parametrize('method', METHODS)
def test_neighbours_and_target_branch_get_no_gradient(method):
    step = prepared_step(method)
    hand_loss(method, step.predictions,
              step.stored[step.nearest]).backward()
    step.model.loss(step.inputs)['loss'].backward()
    mine, expected = grads(step.model), grads(step.ref)
    assert mine.keys() == expected.keys()
    # Only the online backbone, projection and predictor learn.
    assert all(k.split('.')[0] in ('backbone', 'neck', 'head') for k in mine)
    for name, grad in expected.items():
        torch.testing.assert_close(mine[name], grad, msg=name)


@pytest.mark.parametrize('method', METHODS)
def test_warm_up_is_the_mmpretrain_parent(method):
    # Own embeddings as positives: NNBYOL is BYOL, NNSiam is SimSiam, with
    # the same loss and gradients, the target network included.
    model = build(method)
    model.nn_positives = False
    cfg = tiny_nn_variant_cfg(method)
    cfg.pop('memory_bank')
    parent = MODELS.build(dict(cfg, type=PARENT[method]))
    missing = parent.load_state_dict(model.state_dict(), strict=False)
    assert missing.missing_keys == []
    assert all(k.startswith('memory_bank.') for k in missing.unexpected_keys)
    inputs = views()
    loss = model.loss(inputs, samples(range(N)))
    expected = parent.loss(inputs, samples(range(N)))
    assert set(loss) == {'loss'}  # no neighbours, no nn_acc
    torch.testing.assert_close(loss['loss'], expected['loss'])
    loss['loss'].backward()
    expected['loss'].backward()
    mine, theirs = grads(model), grads(parent)
    assert mine.keys() == theirs.keys()
    for name in theirs:
        torch.testing.assert_close(mine[name], theirs[name], msg=name)
    if method == 'NNBYOL':
        for name, value in parent.target_net.state_dict().items():
            assert torch.equal(model.target_net.state_dict()[name], value)


def test_nnsiam_warm_up_targets_are_detached():
    # The positive is z itself: the gradient must be that of the loss with
    # z detached, which differs from the one through both branches.
    model = build('NNSiam')
    model.nn_positives = False
    inputs = views()
    model.loss(inputs)['loss'].backward()
    ref, online, predictions, _ = by_hand(model, inputs)
    attached = hand_loss('NNSiam', predictions, torch.cat(online))
    attached.backward()
    name = 'neck.fc0.weight'
    assert not torch.allclose(grads(ref)[name], grads(model)[name],
                              atol=1e-6)


@pytest.mark.parametrize('method', METHODS)
def test_view_zero_of_the_searched_branch_is_enqueued(method):
    step = prepared_step(method)
    step.model.loss(step.inputs, samples(range(10, 10 + N)))
    bank = step.model.memory_bank
    assert bank.num_filled.item() == 40 + N
    torch.testing.assert_close(bank.bank[:40], step.stored)
    torch.testing.assert_close(bank.bank[40:40 + N],
                               F.normalize(step.searched[:N], dim=1))
    assert bank.labels[40:40 + N].tolist() == list(range(10, 10 + N))


@pytest.mark.parametrize('method', METHODS)
def test_nn_acc_counts_same_class_neighbours(method):
    step = prepared_step(method)
    query_labels = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1])
    expected = (step.stored_labels[step.nearest] == query_labels.repeat(2))
    out = step.model.loss(step.inputs, samples(query_labels))
    assert out['nn_acc'].item() == pytest.approx(
        expected.float().mean().item())


@pytest.mark.parametrize('method', ALL)
def test_labels_never_influence_training(method):
    model = build(method)
    prefill(model)
    twin = copy.deepcopy(model)
    inputs = views()
    with_labels = model.loss(inputs, samples([2] * N))['loss']
    without = twin.loss(inputs)['loss']
    with_labels.backward()
    without.backward()
    assert with_labels.item() == without.item()
    mine, theirs = grads(model), grads(twin)
    assert mine.keys() == theirs.keys()
    for name in mine:
        assert torch.equal(mine[name], theirs[name]), name
    assert torch.equal(model.memory_bank.bank, twin.memory_bank.bank)


@pytest.mark.parametrize('method', ALL)
def test_one_view_is_a_clear_error(method):
    with pytest.raises(ValueError, match=f'{method}: inputs must be .* 2 '
                       'views'):
        build(method).loss([torch.randn(2, 3, 32, 32)])


@pytest.mark.parametrize('method', ALL)
def test_feat_dim_must_match_the_neck(method):
    cfg = (tiny_nnclr_cfg() if method == 'NNCLR' else
           tiny_nn_variant_cfg(method))
    cfg['memory_bank']['feat_dim'] = 16
    with pytest.raises(ValueError, match=rf'{method}: memory_bank.feat_dim '
                       r'\(16\) must equal .*\(32\)'):
        MODELS.build(cfg)


def test_a_cosine_head_in_nnclr_names_the_variants(tiny_cfg):
    cfg = tiny_cfg()
    cfg['head'] = tiny_nn_variant_cfg('NNSiam')['head']
    with pytest.raises(TypeError, match=r'LatentPredictHead has no forward.*'
                       r"NNSiam' or 'NNBYOL'"):
        MODELS.build(cfg)


@pytest.mark.parametrize('target', [
    'meta',
    pytest.param('cuda', marks=pytest.mark.skipif(
        not torch.cuda.is_available(), reason='no CUDA device')),
])
@pytest.mark.parametrize('method', ALL)
def test_every_tensor_moves_with_the_model(method, target):
    # The bank, its labels, pointer and fill count are buffers: .to() moves
    # them with the weights ('meta' stands in for any device), and no
    # module keeps a tensor outside its parameters and buffers.
    model = build(method).to(target)
    for name, tensor in [*model.named_parameters(), *model.named_buffers()]:
        assert tensor.device.type == target, name
    assert {'memory_bank.bank', 'memory_bank.labels', 'memory_bank.ptr',
            'memory_bank.num_filled'} <= dict(model.named_buffers()).keys()
    for module_name, module in model.named_modules():
        for attr, value in vars(module).items():
            assert not isinstance(value, torch.Tensor), \
                f'{module_name}.{attr}'
