"""Every shipped config, run as a user runs it.

Each config goes through its real entry point (``tools/train.py``,
``tools/test.py``, ``tools/analysis_tools/knn_eval.py``) and mmengine's
runner, with its own dataset class, pipeline, collate function, data
preprocessor, model,
optimizer and checkpoint hook, on a few images written in that dataset's
own on-disk layout. Only data paths, batch size, workers and length are
overridden, through ``--cfg-options`` as a user would.
"""
import glob
import json
import os
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from toolkit import (
    COMPARE,
    DEVICE_AUG,
    DEVICE_AUG_IN1K,
    KNN_FMNIST,
    KNN_IN1K,
    LIGHTLY,
    LINEAR_FMNIST,
    LINEAR_IN1K,
    LONGER,
    NN_VARIANTS_IN1K,
    PAPER,
    PAPER_FULL_NAME,
    QUICKSTART,
    RETRIEVAL_FMNIST,
    RETRIEVAL_IN1K,
    ROOT,
    SHIPPED,
    guide_code,
    tiny_options,
)

import nnclr_mm  # noqa: F401
from nnclr_mm.visualization import find_scalars, load_scalars


def test_every_shipped_config_is_run_here():
    covered = {
        PAPER, PAPER_FULL_NAME, LIGHTLY, QUICKSTART, LONGER, DEVICE_AUG,
        *DEVICE_AUG_IN1K, *COMPARE,
        *NN_VARIANTS_IN1K, KNN_FMNIST, KNN_IN1K, LINEAR_FMNIST, LINEAR_IN1K,
        RETRIEVAL_FMNIST, RETRIEVAL_IN1K
    }
    assert set(SHIPPED) == covered, set(SHIPPED) ^ covered
    assert COMPARE, 'no configs of other methods found'


@pytest.mark.parametrize('config', SHIPPED)
def test_schedule_spans_the_training(config):
    # A config that inherits a schedule and changes only max_epochs would
    # anneal to 0 early and train on at lr 0.
    cfg = Config.fromfile(osp.join(ROOT, config))
    epochs = (cfg.get('train_cfg') or {}).get('max_epochs')
    cosine = [
        s for s in cfg.get('param_scheduler') or []
        if s['type'].startswith('CosineAnnealing')
    ]
    if epochs is None or not cosine:
        return
    assert cosine[-1]['end'] == epochs, config
    assert cosine[-1]['T_max'] == epochs - cosine[-1]['begin']


def last_checkpoint(work_dir):
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read().strip()


def train(run_tool, config, data_root, work_dir, *options, **shrink):
    run_tool('train.py', config, '--work-dir', work_dir, '--cfg-options',
             *tiny_options(config, data_root, **shrink), *options)
    return last_checkpoint(work_dir)


def evaluate(run_tool, config, checkpoint, data_root, tmp_path,
             tool='test.py'):
    """Metrics that ``tools/<tool> config checkpoint`` writes with --out."""
    out = tmp_path / f'{osp.basename(config)}.{osp.basename(tool)}.json'
    run_tool(tool, config, checkpoint, '--work-dir', tmp_path / 'eval',
             '--out', out, '--cfg-options', *tiny_options(config, data_root))
    return json.loads(out.read_text())


def check_knn(metrics, num_classes):
    assert set(metrics) == {'knn_top1', 'knn_top5'}
    assert 0.0 <= metrics['knn_top1'] <= metrics['knn_top5'] <= 100.0
    if num_classes <= 5:  # every class is in the top 5
        assert metrics['knn_top5'] == 100.0


def load_state(checkpoint):
    return torch.load(checkpoint, map_location='cpu',
                      weights_only=True)['state_dict']


def check_inference_apis(config, checkpoint, image):
    """mmpretrain's get_model and FeatureExtractor load ``checkpoint`` into
    ``config``'s model and embed ``image`` (HxWx3 BGR) as its own test
    pipeline, data preprocessor and backbone do."""
    from mmcv.transforms import Compose
    from mmengine.dataset import default_collate
    from mmpretrain.apis import FeatureExtractor, get_model
    from mmpretrain.registry import TRANSFORMS

    config = osp.join(ROOT, config)
    state = load_state(checkpoint)
    model = get_model(config, pretrained=checkpoint).eval()
    for name, value in model.state_dict().items():
        if name in state:  # a published checkpoint has no support set
            assert torch.equal(value, state[name]), name
    assert all(name.startswith('memory_bank.')
               for name in model.state_dict().keys() - state.keys())

    feats = FeatureExtractor(config, pretrained=checkpoint)(image)[0]
    pipeline = Compose([
        TRANSFORMS.build(t)
        for t in Config.fromfile(config).test_dataloader.dataset.pipeline
        if t['type'] != 'LoadImageFromFile'
    ])
    data = default_collate([
        pipeline(dict(img=image, img_shape=image.shape[:2],
                      ori_shape=image.shape[:2]))
    ])
    with torch.no_grad():
        inputs = model.data_preprocessor(data, False)['inputs']
        expected = model.extract_feat(inputs)[-1][0]
    torch.testing.assert_close(feats[-1], expected)


def check_backbone_loads(config, path, trained, image):
    """get_model and FeatureExtractor load a backbone's state dict alone
    (``path``) into ``config``'s backbone: the ``trained`` checkpoint's
    backbone weights and features."""
    from mmpretrain.apis import FeatureExtractor, get_model
    config = osp.join(ROOT, config)
    backbone = get_model(config, pretrained=path).backbone.state_dict()
    expected = {k[len('backbone.'):]: v for k, v in load_state(trained)
                .items() if k.startswith('backbone.')}
    assert backbone.keys() == expected.keys()
    for name, value in backbone.items():
        assert torch.equal(value, expected[name]), name
    torch.testing.assert_close(
        FeatureExtractor(config, pretrained=path)(image)[0][-1],
        FeatureExtractor(config, pretrained=trained)(image)[0][-1])


def random_image(height, width):
    g = torch.Generator().manual_seed(0)
    return torch.randint(0, 256, (height, width, 3), generator=g,
                         dtype=torch.uint8).numpy()


def publish(run_tool, checkpoint, out_dir, *flags):
    """Path of the file ``publish_model.py`` writes for ``checkpoint``."""
    out_dir.mkdir()
    run_tool('model_converters/publish_model.py', checkpoint,
             out_dir / 'model.pth', *flags)
    (path, ) = glob.glob(str(out_dir / 'model_*-*.pth'))
    return path


def check_support_set(checkpoint, num_embedded):
    state = load_state(checkpoint)
    assert state['memory_bank.num_filled'].item() == num_embedded
    bank = state['memory_bank.bank'][:num_embedded]
    torch.testing.assert_close(bank.norm(dim=1), torch.ones(num_embedded))


# ImageNet: the paper recipe and the ResNet-50 benchmarks -------------------
@pytest.fixture(scope='module')
def paper_checkpoint(imagenet_root, tmp_path_factory, run_tool):
    work_dir = tmp_path_factory.mktemp('paper')
    return train(run_tool, PAPER, imagenet_root, work_dir)


def test_paper_recipe_has_one_file_under_two_names():
    short = Config.fromfile(osp.join(ROOT, PAPER))
    long = Config.fromfile(
        osp.join(ROOT,
                 'configs/nnclr/nnclr_resnet50_8xb512-lars-coslr-1000e_in1k.py'))
    assert short.to_dict() == long.to_dict()


def test_paper_recipe_trains_and_tests(paper_checkpoint, imagenet_root,
                                       run_tool, tmp_path):
    # 8 images in batches of 4: two steps, one view of each enqueued.
    check_support_set(paper_checkpoint, num_embedded=8)
    state = load_state(paper_checkpoint)
    assert state['backbone.conv1.weight'].shape == (64, 3, 7, 7)
    # LARS: BN and bias parameters without weight decay and adaptation.
    groups = torch.load(paper_checkpoint, weights_only=True)['optimizer'][
        'param_groups']
    excluded = [g for g in groups if g.get('lars_exclude')]
    assert excluded and all(g['weight_decay'] == 0 for g in excluded)
    assert any(g['weight_decay'] == 1e-6 for g in groups)
    metrics = evaluate(run_tool, PAPER, paper_checkpoint, imagenet_root,
                           tmp_path)
    check_knn(metrics, num_classes=2)
    check_inference_apis(PAPER, paper_checkpoint, random_image(300, 400))


@pytest.fixture(scope='module')
def published_paper_model(paper_checkpoint, tmp_path_factory, run_tool):
    out_dir = tmp_path_factory.mktemp('published')
    return publish(run_tool, paper_checkpoint, out_dir / 'full')


def test_published_model_holds_weights_only(paper_checkpoint,
                                            published_paper_model):
    published = torch.load(published_paper_model, weights_only=True)
    assert set(published) == {'meta', 'state_dict'}
    trained = load_state(paper_checkpoint)
    expected = {k for k in trained if not k.startswith('memory_bank.')}
    assert published['state_dict'].keys() == expected
    for name in expected:
        assert torch.equal(published['state_dict'][name], trained[name])
    # The paper's support set alone is 98,304 x 256 fp32 = 96 MiB.
    assert osp.getsize(published_paper_model) < osp.getsize(
        paper_checkpoint) - 96 * 2**20
    check_inference_apis(PAPER, published_paper_model,
                         random_image(300, 400))


def test_published_backbone_loads_into_torchvision(paper_checkpoint,
                                                   run_tool, tmp_path):
    import torchvision
    from mmpretrain.models import ResNet
    path = publish(run_tool, paper_checkpoint, tmp_path / 'backbone',
                   '--backbone-only')
    weights = torch.load(path, weights_only=True)
    reference = torchvision.models.resnet50()
    result = reference.load_state_dict(weights, strict=False)
    assert result.missing_keys == ['fc.weight', 'fc.bias']
    assert result.unexpected_keys == []
    # Same architecture and weights: same features.
    backbone = ResNet(depth=50)
    backbone.load_state_dict(weights)
    # mmpretrain's get_model and FeatureExtractor put it under the backbone.
    check_backbone_loads(PAPER, path, paper_checkpoint,
                         random_image(300, 400))
    reference.fc = torch.nn.Identity()
    reference.eval()
    backbone.eval()  # mmpretrain's ResNet.train returns None
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        expected = reference(x)
        feats = backbone(x)[-1].mean((2, 3))
    torch.testing.assert_close(feats, expected)


@pytest.mark.parametrize('config', [*NN_VARIANTS_IN1K, *DEVICE_AUG_IN1K])
def test_in1k_recipe_trains_and_tests(config, imagenet_root, run_tool,
                                      tmp_path):
    checkpoint = train(run_tool, config, imagenet_root, tmp_path / 'train')
    # 8 images in batches of 4: two steps, one view of each enqueued.
    check_support_set(checkpoint, num_embedded=8)
    assert load_state(checkpoint)['backbone.conv1.weight'].shape == (64, 3,
                                                                     7, 7)
    check_knn(evaluate(run_tool, config, checkpoint, imagenet_root,
                       tmp_path), num_classes=2)


@pytest.mark.parametrize('config, checkpoint, root, num_classes', [
    (KNN_IN1K, 'paper_checkpoint', 'imagenet_root', 2),
    (KNN_FMNIST, 'quickstart_checkpoint', 'fashion_mnist_root', 10)])
def test_knn_benchmark(config, checkpoint, root, num_classes, request,
                       run_tool, tmp_path):
    checkpoint, root = map(request.getfixturevalue, (checkpoint, root))
    by_test = evaluate(run_tool, config, checkpoint, root, tmp_path)
    by_knn_eval = evaluate(run_tool, config, checkpoint, root, tmp_path,
                           tool='analysis_tools/knn_eval.py')
    check_knn(by_test, num_classes=num_classes)
    # Both tools run one kNN on the same backbone and images: the
    # benchmark's validation and test loops are the same kNN.
    assert by_knn_eval == dict(backbone=by_test)


def test_resnet50_linear_benchmark(paper_checkpoint, published_paper_model,
                                   imagenet_root, run_tool, tmp_path):
    # The published model initialises the probe's backbone (prefix
    # 'backbone.'), as a released NNCLR model would.
    probe = train(
        run_tool, LINEAR_IN1K, imagenet_root, tmp_path / 'probe',
        f'model.backbone.init_cfg.checkpoint={published_paper_model}')
    trained, ssl = load_state(probe), load_state(paper_checkpoint)
    for name in ('conv1.weight', 'layer4.2.conv3.weight', 'layer1.0.bn1.'
                 'running_mean'):
        assert torch.equal(trained[f'backbone.{name}'],
                           ssl[f'backbone.{name}']), name
    metrics = evaluate(run_tool, LINEAR_IN1K, probe, imagenet_root,
                           tmp_path)
    assert 0.0 <= metrics['accuracy/top1'] <= 100.0


# CIFAR-10: lightly's recipe -------------------------------------------------
def test_lightly_recipe_trains_and_tests(cifar10_root, run_tool, tmp_path,
                                         monkeypatch):
    # mmpretrain's CIFAR10 checks each file's md5 against the real
    # CIFAR-10's; the tiny files here are in its format, not its content.
    monkeypatch.setattr('mmpretrain.datasets.cifar.check_md5',
                        lambda path, md5: True)
    checkpoint = train(run_tool, LIGHTLY, cifar10_root, tmp_path / 'train')
    # 40 training images in batches of 4.
    check_support_set(checkpoint, num_embedded=40)
    metrics = evaluate(run_tool, LIGHTLY, checkpoint, cifar10_root,
                           tmp_path)
    check_knn(metrics, num_classes=10)
    check_inference_apis(LIGHTLY, checkpoint, random_image(32, 32))


# Fashion-MNIST: the quickstart, the compare configs, the ResNet-18
# benchmarks ----------------------------------------------------------------
@pytest.fixture(scope='module')
def quickstart_checkpoint(fashion_mnist_root, tmp_path_factory,
                          run_tool):
    work_dir = tmp_path_factory.mktemp('quickstart')
    return train(run_tool, QUICKSTART, fashion_mnist_root, work_dir,
                 batch_size=16)


def logged(checkpoint, key):
    """The values of ``key`` in the scalars its training run logged."""
    series = load_scalars(find_scalars(osp.dirname(checkpoint)))
    return [value for _, value in series.get(key, [])]


def check_neighbours_used(checkpoint):
    """The run left the warm-up: some logged step took its positives from
    the support set (the logged value is a mean over steps)."""
    assert logged(checkpoint, 'nn_positives')[-1] > 0


def test_quickstart_trains_and_tests(quickstart_checkpoint,
                                     fashion_mnist_root, run_tool, tmp_path):
    check_support_set(quickstart_checkpoint, num_embedded=64)
    check_neighbours_used(quickstart_checkpoint)
    # The epoch's kNN validation ran and was logged.
    assert logged(quickstart_checkpoint, 'knn_top1')
    metrics = evaluate(run_tool, QUICKSTART, quickstart_checkpoint,
                           fashion_mnist_root, tmp_path)
    check_knn(metrics, num_classes=10)
    check_inference_apis(QUICKSTART, quickstart_checkpoint,
                         random_image(28, 28))


@pytest.mark.parametrize('config', [LONGER, DEVICE_AUG, *COMPARE])
def test_compare_config_trains_and_tests(config, fashion_mnist_root,
                                         run_tool, tmp_path):
    checkpoint = train(run_tool, config, fashion_mnist_root,
                       tmp_path / 'train', batch_size=16)
    assert 'backbone.conv1.weight' in load_state(checkpoint)
    if osp.basename(config).startswith('nn'):
        # 64 images, one view of each stored; neighbours after the warm-up.
        check_support_set(checkpoint, num_embedded=64)
        check_neighbours_used(checkpoint)
    metrics = evaluate(run_tool, config, checkpoint, fashion_mnist_root,
                           tmp_path)
    check_knn(metrics, num_classes=10)


def test_resnet18_linear_benchmark(quickstart_checkpoint, fashion_mnist_root,
                                   run_tool, tmp_path):
    probe = train(run_tool, LINEAR_FMNIST, fashion_mnist_root,
                  tmp_path / 'probe',
                  f'model.backbone.init_cfg.checkpoint={quickstart_checkpoint}')
    trained, ssl = load_state(probe), load_state(quickstart_checkpoint)
    assert torch.equal(trained['backbone.conv1.weight'],
                       ssl['backbone.conv1.weight'])
    metrics = evaluate(run_tool, LINEAR_FMNIST, probe, fashion_mnist_root,
                           tmp_path)
    assert 0.0 <= metrics['accuracy/top1'] <= 100.0
    # The probe classifies images with mmpretrain's inferencer.
    from mmpretrain.apis import ImageClassificationInferencer
    classify = ImageClassificationInferencer(osp.join(ROOT, LINEAR_FMNIST),
                                             pretrained=probe)
    image = random_image(28, 28)
    result = classify(image)[0]
    from nnclr_mm.datasets import OfflineFashionMNIST
    classes = OfflineFashionMNIST.METAINFO['classes']
    assert result['pred_class'] == classes[result['pred_label']]
    # And by its name in the model index, as the README shows (the
    # metafile's Results give inference_model its task).
    from mmpretrain.apis import inference_model
    by_name = inference_model(
        'resnet18_nnclr-5e-pre_linear-probe-1xb256-coslr-10e_fashion-mnist',
        image, pretrained=probe)
    assert by_name['pred_label'] == result['pred_label']
    assert by_name['pred_score'] == pytest.approx(result['pred_score'])


@pytest.mark.parametrize('kind', ['training', 'backbone-only'])
def test_linear_probe_command(kind, quickstart_checkpoint, fashion_mnist_root,
                              run_tool, tmp_path, capfd):
    checkpoint = (quickstart_checkpoint if kind == 'training' else publish(
        run_tool, quickstart_checkpoint, tmp_path / 'published',
        '--backbone-only'))
    out = tmp_path / 'probe.json'
    run_tool('analysis_tools/linear_probe.py', LINEAR_FMNIST, checkpoint,
             '--work-dir', tmp_path / 'probe', '--out', out, '--cfg-options',
             *tiny_options(LINEAR_FMNIST, fashion_mnist_root))
    metrics = json.loads(out.read_text())
    assert 0.0 <= metrics['accuracy/top1'] <= 100.0
    assert 'linear probe of' in capfd.readouterr().out
    # The probe's backbone is the checkpoint's, frozen through training.
    probe = load_state(last_checkpoint(tmp_path / 'probe'))
    assert torch.equal(probe['backbone.layer4.1.conv2.weight'],
                       load_state(quickstart_checkpoint)[
                           'backbone.layer4.1.conv2.weight'])


def test_an_ssl_model_asked_for_classes_names_what_to_use(
        quickstart_checkpoint):
    from mmpretrain.apis import inference_model
    with pytest.raises(RuntimeError, match=r'NNCLR is self-supervised.*'
                       r'FeatureExtractor.*ImageRetrievalInferencer.*'
                       r'linear probe'):
        inference_model('nnclr_resnet18_1xb256-coslr-5e_fashion-mnist',
                        random_image(28, 28), pretrained=quickstart_checkpoint)


# Retrieval: the nearest images of a query in a folder -----------------------
def image_folder(folder, images):
    """``images`` (HxWx3 uint8 RGB) as PNG files in ``folder``, sorted."""
    from PIL import Image
    folder.mkdir(parents=True)
    paths = []
    for i, image in enumerate(images):
        paths.append(str(folder / f'{i:02d}.png'))
        Image.fromarray(image).save(paths[-1])
    return paths


def check_retrieval(config, checkpoint, gallery, run_tool, tmp_path, capfd):
    """The query, one of the gallery's images, comes first with cosine 1,
    by mmpretrain's inferencer and by ``tools/analysis_tools/retrieve.py``
    (what it prints) with and without the retrieval config."""
    from mmpretrain.apis import ImageRetrievalInferencer
    folder = osp.dirname(gallery[0])
    query = gallery[3]
    inferencer = ImageRetrievalInferencer(
        osp.join(ROOT, config), prototype=folder, pretrained=checkpoint)
    matches = inferencer(query, topk=3)[0]
    assert matches[0]['sample']['img_path'] == query
    assert float(matches[0]['match_score']) == pytest.approx(1, abs=1e-5)
    capfd.readouterr()
    for options in (['--config', config], []):
        out = tmp_path / f'retrieval{len(options)}.png'
        run_tool('analysis_tools/retrieve.py', query, '--gallery', folder,
                 '--checkpoint', checkpoint, '--topk', 3, '--out', out,
                 *options)
        printed = capfd.readouterr().out.splitlines()
        start = next(i for i, line in enumerate(printed)
                     if line == f'{query}:')
        assert [line.split()[1] for line in printed[start + 1:start + 4]
                ] == [m['sample']['img_path'] for m in matches]
        assert out.stat().st_size > 1000


def test_resnet18_retrieval_config(quickstart_checkpoint, fashion_mnist_root,
                                   run_tool, tmp_path, capfd):
    from nnclr_mm.datasets import OfflineFashionMNIST
    data = OfflineFashionMNIST(data_root=str(fashion_mnist_root),
                               split='test', indices=8)
    gallery = image_folder(tmp_path / 'gallery',
                           [data.get_data_info(i)['img'] for i in range(8)])
    check_retrieval(RETRIEVAL_FMNIST, quickstart_checkpoint, gallery,
                    run_tool, tmp_path, capfd)


def test_resnet50_retrieval_config(paper_checkpoint, run_tool, tmp_path,
                                   capfd):
    gallery = image_folder(tmp_path / 'gallery',
                           [random_image(120 + 10 * i, 160) for i in range(6)])
    check_retrieval(RETRIEVAL_IN1K, paper_checkpoint, gallery, run_tool,
                    tmp_path, capfd)


# The guide's configs that switch an mmpretrain recipe ----------------------
def guide_configs():
    """The Python blocks of the configs guide that inherit an mmpretrain
    recipe."""
    return [b for b in guide_code('user_guides/configs.md')
            if "_base_ = ['mmpretrain::" in b]


def test_the_guide_shows_two_recipe_switches():
    assert len(guide_configs()) == 2


@pytest.mark.parametrize('index, algorithm, head', [
    (0, 'NNCLR', 'NNCLRHead'), (1, 'NNBYOL', 'LatentPredictHead')])
def test_a_guide_recipe_switch_trains(index, algorithm, head, imagenet_root,
                                       run_tool, tmp_path):
    config = tmp_path / 'my_config.py'
    config.write_text(guide_configs()[index])
    cfg = Config.fromfile(str(config))
    assert (cfg.model.type, cfg.model.head.type) == (algorithm, head)
    if algorithm == 'NNCLR':  # nothing of SimCLR's head is left
        assert set(cfg.model.head) == {'type', 'predictor', 'loss'}
    checkpoint = train(run_tool, str(config), imagenet_root,
                       tmp_path / 'train')
    # 8 images in batches of 4: two steps, one view of each enqueued.
    check_support_set(checkpoint, num_embedded=8)
    check_neighbours_used(checkpoint)


def test_the_guide_s_new_method_config_trains(guide_method, imagenet_root,
                                              run_tool, tmp_path):
    # docs/advanced/new_method.md: NNMoCoV3 on mmpretrain's MoCo v3 recipe,
    # written where the page puts it, beside the shipped bases.
    code, = guide_code('advanced/new_method.md', '# configs/nnmocov3/')
    folder = tmp_path / 'configs' / 'nnmocov3'
    folder.mkdir(parents=True)
    os.symlink(osp.join(ROOT, 'configs', '_base_'),
               tmp_path / 'configs' / '_base_')
    config = folder / code.splitlines()[0].split('/')[-1]
    config.write_text(code)
    cfg = Config.fromfile(str(config))
    assert (cfg.model.type, cfg.model.head.type) == ('NNMoCoV3', 'MoCoV3Head')
    checkpoint = train(run_tool, str(config), imagenet_root,
                       tmp_path / 'train')
    # 8 images in batches of 4: two steps, the keys of one view enqueued.
    check_support_set(checkpoint, num_embedded=8)
    check_neighbours_used(checkpoint)
