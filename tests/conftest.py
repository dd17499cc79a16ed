import os

import pytest
import torch
from toolkit import ROOT, guide_code, tiny_nnclr_cfg

# Make every test deterministic and keep the 2-core CI machine responsive.
torch.set_num_threads(min(2, os.cpu_count() or 1))


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.fixture(autouse=True)
def _forget_mmengine_instances():
    """Drop the loggers, visualizers and scopes a test created.

    Runners built in the same second share a timestamp, the name under which
    mmengine keeps them; without this, a fast machine hands one test's
    runner the logger of the test before, logging into that test's
    ``work_dir``.
    """
    from mmengine.utils import ManagerMixin

    def managers(cls=ManagerMixin):
        for sub in cls.__subclasses__():
            yield sub
            yield from managers(sub)

    before = {cls: set(cls._instance_dict) for cls in managers()}
    yield
    for cls in managers():
        for name in set(cls._instance_dict) - before.get(cls, set()):
            instance = cls._instance_dict.pop(name)
            for handler in getattr(instance, 'handlers', []):
                handler.close()


@pytest.fixture(params=[
    'cpu',
    pytest.param('cuda', marks=pytest.mark.skipif(
        not torch.cuda.is_available(), reason='no CUDA device')),
])
def device(request):
    """Each device a test runs on: the CPU always, CUDA when present."""
    return torch.device(request.param)


@pytest.fixture
def said(monkeypatch):
    """What mmengine's print_log is given during the test, line by line."""
    import mmengine.logging
    lines = []
    monkeypatch.setattr(mmengine.logging, 'print_log',
                        lambda msg, **kwargs: lines.append(msg))
    return lines


@pytest.fixture
def tiny_cfg():
    """Factory of :func:`tiny_nnclr_cfg` configs."""
    return tiny_nnclr_cfg


@pytest.fixture
def build_tiny_nnclr():
    from mmpretrain.registry import MODELS

    import nnclr_mm  # noqa: F401

    def build(**kwargs):
        return MODELS.build(tiny_nnclr_cfg(**kwargs))

    return build


@pytest.fixture(scope='session')
def run_tool():
    """Run ``tools/<path>`` in this process as its command line would, from
    the repository root; ``sys.argv`` and the working directory are
    restored afterwards."""
    import runpy
    import sys

    def run(tool, *args):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(sys, 'argv', [tool, *map(str, args)])
            patch.chdir(ROOT)
            runpy.run_path(os.path.join(ROOT, 'tools', tool),
                           run_name='__main__')

    return run


# Tiny datasets in each dataset's own on-disk layout, for running the
# shipped configs through the real tools (tests/test_shipped_configs.py).
@pytest.fixture(scope='session')
def fashion_mnist_root(tmp_path_factory):
    """The first 64 training and 32 test images of the real Fashion-MNIST,
    as gzipped IDX files (Debian's and Zalando's layout)."""
    from nnclr_mm.datasets.fashion_mnist import DEBIAN_ROOT, write_subset
    root = tmp_path_factory.mktemp('fashion-mnist')
    write_subset(DEBIAN_ROOT, str(root), num_train=64, num_test=32)
    return root


@pytest.fixture(scope='session')
def imagenet_root(tmp_path_factory):
    """ImageNet's layout with 8 training and 4 validation JPEGs of 2
    classes: ``train/<wnid>/*.JPEG``, ``val/*.JPEG``, ``meta/{train,val}.txt``
    (mmpretrain's ``ImageNet`` with ``split='train'`` or ``'val'``)."""
    import numpy as np
    from PIL import Image
    root = tmp_path_factory.mktemp('imagenet')
    rng = np.random.RandomState(0)
    (root / 'meta').mkdir()
    lines = []
    for i in range(8):
        wnid = ('n01440764', 'n01443537')[i % 2]
        (root / 'train' / wnid).mkdir(parents=True, exist_ok=True)
        name = f'{wnid}/{wnid}_{i}.JPEG'
        Image.fromarray(rng.randint(0, 256, (240, 320, 3), np.uint8)).save(
            root / 'train' / name, format='JPEG')
        lines.append(f'{name} {i % 2}')
    (root / 'meta' / 'train.txt').write_text('\n'.join(lines) + '\n')
    (root / 'val').mkdir()
    lines = []
    for i in range(4):
        name = f'ILSVRC2012_val_{i + 1:08d}.JPEG'
        Image.fromarray(rng.randint(0, 256, (256, 300, 3), np.uint8)).save(
            root / 'val' / name, format='JPEG')
        lines.append(f'{name} {i % 2}')
    (root / 'meta' / 'val.txt').write_text('\n'.join(lines) + '\n')
    return root


@pytest.fixture(scope='session')
def cifar10_root(tmp_path_factory):
    """CIFAR-10's python version (``cifar-10-batches-py``: five training
    batches, ``test_batch``, ``batches.meta``) with 8 images per batch."""
    import pickle

    import numpy as np
    root = tmp_path_factory.mktemp('cifar10')
    folder = root / 'cifar-10-batches-py'
    folder.mkdir()
    rng = np.random.RandomState(0)
    names = [f'data_batch_{i}' for i in range(1, 6)] + ['test_batch']
    for name in names:
        batch = dict(
            data=rng.randint(0, 256, (8, 3072), np.uint8),
            labels=[i % 10 for i in range(8)])
        (folder / name).write_bytes(pickle.dumps(batch))
    meta = dict(label_names=['airplane', 'automobile', 'bird', 'cat', 'deer',
                             'dog', 'frog', 'horse', 'ship', 'truck'])
    (folder / 'batches.meta').write_bytes(pickle.dumps(meta))
    return root


# The guide's example of a new method (docs/advanced/new_method.md), defined
# as the page defines it, for the tests of its class and its config.
@pytest.fixture(scope='session')
def guide_method():
    from nnclr_mm.registry import MODELS, add_to_mmpretrain
    code, = guide_code('advanced/new_method.md',
                       '# nnclr_mm/models/algorithms/nnmocov3.py')
    # The page's relative imports, from the package.
    code = code.replace('from ...registry import',
                        'from nnclr_mm.registry import').replace(
                            'from .support_set import',
                            'from nnclr_mm.models.algorithms.support_set '
                            'import')
    namespace = {}
    exec(compile(code, 'docs/advanced/new_method.md', 'exec'), namespace)
    add_to_mmpretrain()  # as `import nnclr_mm` does for its own classes
    yield namespace['NNMoCoV3']
    for registry in (MODELS, MODELS.parent):  # the registries as they were
        registry._module_dict.pop('NNMoCoV3')
