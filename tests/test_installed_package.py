"""What a user can do after ``pip install``: the wheel built from this
checkout, installed into a fresh virtual environment (its dependencies
taken from this one's), used from a folder outside the checkout where
``import nnclr_mm`` is the installed package: the ``nnclr-mm`` command,
``nnclr_mm::`` configs, a user config inheriting one, retrieval, and the
scripts mim runs."""
import os
import os.path as osp
import site
import subprocess
import sys

import pytest
from toolkit import QUICKSTART, ROOT, tiny_options

#: The quickstart by its installed name.
INSTALLED_QUICKSTART = ('nnclr_mm::nnclr/'
                        'nnclr_resnet18_1xb256-coslr-5e_fashion-mnist.py')


@pytest.fixture(scope='module')
def venv(tmp_path_factory):
    """A fresh venv with the wheel of this checkout, the dependencies
    reused from this interpreter's site-packages."""
    base = tmp_path_factory.mktemp('installed')
    subprocess.run([sys.executable, '-m', 'pip', 'wheel', '--quiet',
                    '--no-deps', '--no-build-isolation', '--wheel-dir',
                    str(base / 'dist'), ROOT], check=True)
    (wheel, ) = (base / 'dist').glob('nnclr_mm-*.whl')
    env_dir = base / 'venv'
    subprocess.run([sys.executable, '-m', 'venv', str(env_dir)], check=True)
    python = env_dir / 'bin' / 'python'
    subprocess.run([str(python), '-m', 'pip', 'install', '--quiet',
                    '--no-deps', '--no-index', str(wheel)], check=True)
    own = subprocess.run([str(python), '-c', 'import site; print('
                          'site.getsitepackages()[0])'], check=True,
                         capture_output=True, text=True).stdout.strip()
    # Paths of a .pth file come after the venv's own site-packages, and
    # their own .pth files (this checkout's editable install) are not run.
    with open(osp.join(own, 'reused_dependencies.pth'), 'w') as f:
        f.write('\n'.join(site.getsitepackages()) + '\n')
    return env_dir


def run(venv, cwd, *cmd):
    """``cmd`` (a command of the venv's bin/) in ``cwd``; its output."""
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
    env['PATH'] = str(venv / 'bin') + os.pathsep + env['PATH']
    done = subprocess.run(list(map(str, cmd)), cwd=cwd, env=env,
                          capture_output=True, text=True)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-4000:]
    assert 'Failed to search registry' not in out
    return out


def test_the_installed_package_trains_tests_inherits_and_retrieves(
        venv, tmp_path, fashion_mnist_root):
    work = tmp_path / 'user'
    work.mkdir()
    imported = run(venv, work, 'python', '-c',
                   'import nnclr_mm; print(nnclr_mm.__file__)')
    assert str(venv) in imported and ROOT not in imported
    assert 'nnclr-mm train' in run(venv, work, 'nnclr-mm', '--help')
    assert 'example:' in run(venv, work, 'nnclr-mm', 'retrieve', '--help')

    tiny = tiny_options(QUICKSTART, fashion_mnist_root, batch_size=16)
    out = run(venv, work, 'nnclr-mm', 'train', INSTALLED_QUICKSTART,
              '--work-dir', 'quickstart', '--cfg-options', *tiny)
    assert 'knn_top1' in out
    checkpoint = work / 'quickstart' / 'epoch_1.pth'
    out = run(venv, work, 'nnclr-mm', 'test', INSTALLED_QUICKSTART,
              checkpoint, '--work-dir', 'test', '--cfg-options', *tiny)
    assert 'Epoch(test)' in out and 'knn_top1' in out

    # A user's config on the installed recipe.
    (work / 'my_config.py').write_text(
        f"_base_ = '{INSTALLED_QUICKSTART}'\n"
        'model = dict(memory_bank=dict(size=128))\n')
    run(venv, work, 'nnclr-mm', 'train', 'my_config.py', '--work-dir',
        'mine', '--cfg-options', *tiny)
    assert (work / 'mine' / 'epoch_1.pth').is_file()

    # The nearest images of a query in a folder, the query first.
    from PIL import Image

    from nnclr_mm.datasets import OfflineFashionMNIST
    data = OfflineFashionMNIST(data_root=str(fashion_mnist_root),
                               split='test', indices=6)
    (work / 'gallery').mkdir()
    for i in range(6):
        Image.fromarray(data.get_data_info(i)['img']).save(
            work / 'gallery' / f'{i}.png')
    query = work / 'gallery' / '2.png'
    out = run(venv, work, 'nnclr-mm', 'retrieve', query, '--gallery',
              'gallery', '--checkpoint', checkpoint, '--topk', 3)
    lines = out.splitlines()
    first = lines[lines.index(f'{query}:') + 1].split()
    assert first[1].endswith('gallery/2.png') and float(first[0]) > 0.9999
    assert (work / 'quickstart' / 'retrieval.png').stat().st_size > 1000


def test_mim_finds_the_tools_and_configs(venv, tmp_path, fashion_mnist_root):
    # `mim train nnclr_mm CONFIG` runs python <package>/.mim/tools/train.py
    # CONFIG, and `mim test ... --checkpoint CKPT` .mim/tools/test.py CONFIG
    # CKPT, with the config found under <package>/.mim/configs.
    package = run(venv, tmp_path, 'python', '-c', 'import os, nnclr_mm; '
                  'print(os.path.dirname(nnclr_mm.__file__))').strip()
    mim = osp.join(package, '.mim')
    config = osp.join(mim, 'configs', 'nnclr',
                      'nnclr_resnet18_1xb256-coslr-5e_fashion-mnist.py')
    tiny = tiny_options(QUICKSTART, fashion_mnist_root, batch_size=16)
    run(venv, tmp_path, 'python', osp.join(mim, 'tools', 'train.py'), config,
        '--work-dir', 'mim', '--no-validate', '--cfg-options', *tiny)
    out = run(venv, tmp_path, 'python', osp.join(mim, 'tools', 'test.py'),
              config, tmp_path / 'mim' / 'epoch_1.pth', '--work-dir',
              'mim_test', '--cfg-options', *tiny)
    assert 'knn_top1' in out
