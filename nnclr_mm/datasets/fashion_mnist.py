import gzip
import os.path as osp
from typing import List, Optional

import numpy as np
from mmpretrain.datasets import BaseDataset

from .._validation import check_choice
from ..registry import DATASETS

#: Where Debian's ``dataset-fashion-mnist`` package puts the files.
DEBIAN_ROOT = '/usr/share/datasets/fashion-mnist'

_FILES = dict(
    train=('train-images-idx3-ubyte', 'train-labels-idx1-ubyte'),
    test=('t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'))


def read_idx(path: str) -> np.ndarray:
    """Read an IDX file (optionally gzipped) of unsigned bytes.

    Args:
        path (str): The file, e.g. ``train-images-idx3-ubyte.gz``.

    Returns:
        ndarray: uint8 array of the shape stored in the header.
    """
    opener = gzip.open if path.endswith('.gz') else open
    with opener(path, 'rb') as f:
        data = f.read()
    zero, dtype_code, ndim = data[0:2], data[2], data[3]
    if zero != b'\x00\x00' or dtype_code != 0x08:
        raise ValueError(f'{path} is not an IDX file of unsigned bytes '
                         f'(header {data[:4].hex()})')
    shape = tuple(
        int.from_bytes(data[4 + 4 * i:8 + 4 * i], 'big') for i in range(ndim))
    body = np.frombuffer(data, np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(shape)):
        raise ValueError(f'{path} is truncated: header says {shape}, '
                         f'found {body.size} values')
    return body.reshape(shape)


def write_idx(path: str, array: np.ndarray) -> None:
    """Write ``array`` as a gzipped IDX file of unsigned bytes, the format
    :func:`read_idx` reads.

    Args:
        path (str): The file, e.g. ``train-images-idx3-ubyte.gz``.
        array (ndarray): Values in [0, 255], of any shape.
    """
    header = bytes([0, 0, 0x08, array.ndim]) + b''.join(
        int(n).to_bytes(4, 'big') for n in array.shape)
    with gzip.open(path, 'wb') as f:
        f.write(header + array.astype(np.uint8).tobytes())


def write_subset(data_root: str, out_dir: str, num_train: int,
                 num_test: int) -> List[str]:
    """Copy the first ``num_train`` training and ``num_test`` test images
    and labels of the Fashion-MNIST in ``data_root`` into ``out_dir``, in
    the same file layout, so that :class:`OfflineFashionMNIST` reads them
    with ``data_root=out_dir``.

    Args:
        data_root (str): Where the full files are (see
            :func:`find_idx_file`).
        out_dir (str): An existing folder.
        num_train (int): Training samples to keep.
        num_test (int): Test samples to keep.

    Returns:
        list[str]: The files written.
    """
    written = []
    for split, num in (('train', num_train), ('test', num_test)):
        for name in _FILES[split]:
            source = find_idx_file(data_root, name)
            if source is None:
                raise FileNotFoundError(
                    f'{name}(.gz) not found in {data_root!r}; install '
                    'Debian\'s dataset-fashion-mnist or pass its folder')
            path = osp.join(out_dir, f'{name}.gz')
            write_idx(path, read_idx(source)[:num])
            written.append(path)
    return written


def find_idx_file(data_root: str, name: str) -> Optional[str]:
    """``name`` or ``name.gz`` in ``data_root`` or torchvision's layout
    ``data_root/FashionMNIST/raw``.

    Args:
        data_root (str): The folder to look in.
        name (str): The IDX file's name without ``.gz``.

    Returns:
        str, optional: The path found first, or None if absent.
    """
    for folder in (data_root, osp.join(data_root, 'FashionMNIST', 'raw')):
        for candidate in (name, name + '.gz'):
            path = osp.join(folder, candidate)
            if osp.isfile(path):
                return path
    return None


@DATASETS.register_module()
class OfflineFashionMNIST(BaseDataset):
    """Fashion-MNIST read from local IDX files, as HxWx3 uint8 images.

    Real data that needs no download: Debian's ``dataset-fashion-mnist``
    package ships the four IDX files under ``/usr/share/datasets/
    fashion-mnist``. Files may be gzipped or not, directly in ``data_root``
    or in torchvision's layout (``data_root/FashionMNIST/raw``). The 28x28
    grayscale images are handed to the pipeline as three identical
    channels, so RGB pipelines (SimCLR's colour jitter) work unchanged.

    From `Fashion-MNIST <https://arxiv.org/abs/1708.07747>`_ (Xiao et al.,
    2017): 60,000 training and 10,000 test images of 10 classes.

    Args:
        data_root (str): Folder of the IDX files. Defaults to Debian's.
        split (str): ``'train'`` or ``'test'``. Defaults to ``'train'``.
        indices (int or Sequence[int], optional): Use a subset, as in
            :class:`mmengine.dataset.BaseDataset`; an int keeps the first
            ones. Defaults to None (all).
        **kwargs: Other arguments of :class:`mmpretrain.datasets.
            BaseDataset`, e.g. ``pipeline``.
    """

    METAINFO = dict(classes=('T-shirt/top', 'Trouser', 'Pullover', 'Dress',
                             'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag',
                             'Ankle boot'))

    def __init__(self,
                 data_root: str = DEBIAN_ROOT,
                 split: str = 'train',
                 **kwargs) -> None:
        check_choice('OfflineFashionMNIST', 'split', split, tuple(_FILES))
        self.split = split
        super().__init__(
            ann_file='', data_root=data_root, data_prefix='', **kwargs)

    def load_data_list(self) -> List[dict]:
        paths = [find_idx_file(self.data_root, n) for n in _FILES[self.split]]
        if None in paths:
            missing = _FILES[self.split][paths.index(None)]
            raise FileNotFoundError(
                f'OfflineFashionMNIST: {missing}(.gz) not found in '
                f'data_root={self.data_root!r} (nor in its FashionMNIST/raw).'
                ' Install the files with `apt-get install '
                'dataset-fashion-mnist` (Debian/Ubuntu), or point data_root '
                'at a folder that holds them.')
        images, labels = (read_idx(p) for p in paths)
        if len(images) != len(labels):
            raise ValueError(f'OfflineFashionMNIST: {paths[0]} holds '
                             f'{len(images)} images but {paths[1]} '
                             f'{len(labels)} labels')
        return [
            dict(img=img, gt_label=int(label))
            for img, label in zip(images, labels)
        ]

    def get_data_info(self, idx: int) -> dict:
        info = super().get_data_info(idx)
        info['img'] = np.repeat(info['img'][..., None], 3, axis=2)
        info['img_shape'] = info['ori_shape'] = info['img'].shape[:2]
        return info
