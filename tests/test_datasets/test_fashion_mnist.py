import gzip
import os.path as osp

import numpy as np
import pytest

from nnclr_mm.datasets import OfflineFashionMNIST, read_idx
from nnclr_mm.datasets.fashion_mnist import DEBIAN_ROOT


def idx_bytes(array):
    header = bytes([0, 0, 0x08, array.ndim])
    header += b''.join(int(d).to_bytes(4, 'big') for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_split(folder, split, images, labels, gz=True):
    names = dict(train=('train-images-idx3-ubyte', 'train-labels-idx1-ubyte'),
                 test=('t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'))
    folder.mkdir(parents=True, exist_ok=True)
    for name, array in zip(names[split], (images, labels)):
        data = idx_bytes(array)
        if gz:
            (folder / (name + '.gz')).write_bytes(gzip.compress(data))
        else:
            (folder / name).write_bytes(data)


@pytest.fixture
def images():
    return np.arange(3 * 28 * 28).reshape(3, 28, 28) % 256


@pytest.mark.parametrize('gz', [True, False])
def test_read_idx_round_trip(tmp_path, images, gz):
    write_split(tmp_path, 'test', images, np.array([4, 0, 9]), gz=gz)
    suffix = '.gz' if gz else ''
    out = read_idx(str(tmp_path / f't10k-images-idx3-ubyte{suffix}'))
    assert out.dtype == np.uint8 and out.shape == (3, 28, 28)
    np.testing.assert_array_equal(out, images)


def test_truncated_idx_is_a_clear_error(tmp_path, images):
    path = tmp_path / 'x-idx3-ubyte'
    path.write_bytes(idx_bytes(images)[:-10])
    with pytest.raises(ValueError, match=r'x-idx3-ubyte is truncated'):
        read_idx(str(path))


@pytest.mark.parametrize('layout', ['flat', 'torchvision'])
def test_dataset_gives_hxwx3_uint8_with_labels(tmp_path, images, layout):
    folder = tmp_path if layout == 'flat' else (tmp_path / 'FashionMNIST' /
                                                'raw')
    write_split(folder, 'test', images, np.array([4, 0, 9]),
                gz=layout == 'flat')
    ds = OfflineFashionMNIST(data_root=str(tmp_path), split='test')
    assert len(ds) == 3
    sample = ds[2]
    assert sample['img'].shape == (28, 28, 3)
    assert sample['img'].dtype == np.uint8
    for c in range(3):
        np.testing.assert_array_equal(sample['img'][..., c], images[2])
    assert sample['gt_label'] == 9
    assert list(ds.get_gt_labels()) == [4, 0, 9]


def test_missing_files_name_the_path_and_the_package(tmp_path):
    with pytest.raises(FileNotFoundError) as error:
        OfflineFashionMNIST(data_root=str(tmp_path / 'nowhere'))
    message = str(error.value)
    assert 'train-images-idx3-ubyte' in message
    assert str(tmp_path / 'nowhere') in message
    assert 'apt-get install dataset-fashion-mnist' in message


def test_bad_split_names_the_argument():
    with pytest.raises(ValueError, match="split must be one of.*'val'"):
        OfflineFashionMNIST(split='val')


def test_real_fashion_mnist_is_balanced():
    # Installed by tools/setup_env.sh (Debian's dataset-fashion-mnist).
    assert osp.isdir(DEBIAN_ROOT), 'run tools/setup_env.sh as root'
    test = OfflineFashionMNIST(split='test')
    train = OfflineFashionMNIST(split='train')
    # Fashion-MNIST has 6,000 training and 1,000 test images per class.
    assert np.bincount(test.get_gt_labels()).tolist() == [1000] * 10
    assert np.bincount(train.get_gt_labels()).tolist() == [6000] * 10
    assert test[0]['img'].shape == (28, 28, 3)


def test_colour_jitter_says_nothing_per_image():
    # mmcv warns on every saturation change with the pillow backend that
    # only alpha is used, which the pipelines' calls give alone. Run as a
    # training process runs it (pytest rewrites warning filters).
    import subprocess
    import sys
    code = (
        'import numpy as np, nnclr_mm\n'
        'from mmpretrain.registry import TRANSFORMS\n'
        "jitter = TRANSFORMS.build(dict(type='ColorJitter', saturation=0.4,"
        " backend='pillow'))\n"
        'jitter(dict(img=np.zeros((8, 8, 3), np.uint8)))\n'
        "print('done')\n")
    done = subprocess.run([sys.executable, '-c', code], capture_output=True,
                          text=True, check=True)
    assert done.stdout.strip().endswith('done')
    assert "Only use 'alpha'" not in done.stderr
