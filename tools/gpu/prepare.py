"""Prepare the GPU acceptance run (tools/gpu/acceptance.sh) on a machine
with the package index, for a GPU node that has none.

    python tools/gpu/prepare.py [--extra NAME==VERSION ...]

Writes, into git-ignored folders of the checkout, everything the node lacks:

- ``.whl/``: the wheels of mmengine, mmcv-lite, mmpretrain, lightly and
  their pure-Python dependencies, at the versions installed here (the
  tested stack), for CPython 3.12 on x86-64 Linux;
- ``data/gpu/fashion-mnist/``: the first 10,240 training and 2,000 test
  images of Fashion-MNIST (the quickstart's split), from Debian's
  ``dataset-fashion-mnist``.

It then checks that every requirement of a carried wheel is carried or in
:data:`ON_THE_NODE`, and prints the size of what travels with the working
tree (tracked and untracked files that git does not ignore, the wheels and
the data), which must stay under 64 MiB.
"""
import argparse
import glob
import importlib.metadata
import os
import os.path as osp
import subprocess
import sys
import zipfile

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
WHEELS = osp.join(ROOT, '.whl')
DATA = osp.join(ROOT, 'data', 'gpu', 'fashion-mnist')
#: What travels: at most this many bytes.
LIMIT = 64 * 2**20

#: Distributions the node lacks, carried at the versions installed here.
CARRIED = (
    'mmengine', 'mmcv-lite', 'mmpretrain', 'lightly', 'addict', 'yapf',
    'termcolor', 'platformdirs', 'mat4py', 'modelindex', 'model-index',
    'ordered-set', 'importlib-metadata', 'lazy-importer')
#: What a CUDA PyTorch image is taken to have (the acceptance script's
#: environment check imports each and names any that is missing).
ON_THE_NODE = (
    'torch', 'torchvision', 'numpy', 'pillow', 'opencv-python', 'matplotlib',
    'pyyaml', 'rich', 'packaging', 'click', 'markdown', 'zipp', 'einops',
    'pytest', 'scikit-learn', 'tqdm')
#: Requirements of a carried wheel that the checks never import: lightly's
#: command line and Lightning trainer (the checks use its losses and
#: modules only).
UNUSED = {'lightly': ('hydra-core', 'pytorch-lightning')}
#: The node's interpreter and platform.
PLATFORM_ARGS = [
    '--python-version', '3.12', '--implementation', 'cp', '--platform',
    'manylinux_2_28_x86_64', '--platform', 'manylinux_2_17_x86_64',
    '--platform', 'manylinux2014_x86_64'
]


def normalise(name: str) -> str:
    return name.lower().replace('_', '-').replace('.', '-')


def download(specs) -> None:
    os.makedirs(WHEELS, exist_ok=True)
    for old in glob.glob(osp.join(WHEELS, '*.whl')):
        os.remove(old)  # one version of each, or pip refuses to install
    subprocess.run([
        sys.executable, '-m', 'pip', 'download', '--quiet', '--no-deps',
        '--only-binary=:all:', *PLATFORM_ARGS, '--dest', WHEELS, *specs
    ], check=True)


def wheel_requirements(path: str):
    """The name of the wheel's distribution and the names it requires on
    CPython 3.12 / Linux, extras left out."""
    from packaging.requirements import Requirement
    with zipfile.ZipFile(path) as archive:
        metadata = next(n for n in archive.namelist()
                        if n.endswith('.dist-info/METADATA'))
        lines = archive.read(metadata).decode().splitlines()
    name = next(line.split(':', 1)[1].strip() for line in lines
                if line.startswith('Name:'))
    env = dict(python_version='3.12', python_full_version='3.12.0',
               sys_platform='linux', platform_system='Linux',
               platform_machine='x86_64', os_name='posix',
               implementation_name='cpython', extra='')
    needed = []
    for line in lines:
        if line.startswith('Requires-Dist:'):
            req = Requirement(line.split(':', 1)[1].strip())
            if req.marker is None or req.marker.evaluate(env):
                needed.append(normalise(req.name))
    return normalise(name), needed


def check_requirements() -> None:
    provided = {normalise(n) for n in CARRIED + ON_THE_NODE}
    unmet = []
    for path in sorted(glob.glob(osp.join(WHEELS, '*.whl'))):
        name, needed = wheel_requirements(path)
        skip = {normalise(n) for n in UNUSED.get(name, ())}
        unmet += [f'{name} needs {n}' for n in needed
                  if n not in provided and n not in skip]
    if unmet:
        sys.exit('prepare: requirements neither carried nor on the node: ' +
                 '; '.join(unmet) + '. Carry them with --extra NAME==VER.')


def travelling_bytes() -> int:
    """Tracked and untracked-not-ignored files, the wheels and the data."""
    listed = subprocess.run(
        ['git', 'ls-files', '-z', '--cached', '--others',
         '--exclude-standard'], cwd=ROOT, check=True,
        capture_output=True).stdout.decode().split('\0')
    files = {osp.join(ROOT, f) for f in listed if f}
    files |= set(glob.glob(osp.join(WHEELS, '*')))
    files |= set(glob.glob(osp.join(DATA, '*')))
    return sum(osp.getsize(f) for f in files if osp.isfile(f))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--extra', nargs='+', default=[],
                        metavar='NAME==VERSION',
                        help='more wheels to carry (a package the node '
                        'lacks beyond CARRIED)')
    parser.add_argument('--data-root',
                        help='the full Fashion-MNIST files; defaults to '
                        'Debian\'s dataset-fashion-mnist')
    args = parser.parse_args()
    from nnclr_mm.datasets.fashion_mnist import DEBIAN_ROOT, write_subset
    specs = [f'{n}=={importlib.metadata.version(n)}' for n in CARRIED]
    download(specs + args.extra)
    check_requirements()
    os.makedirs(DATA, exist_ok=True)
    write_subset(args.data_root or DEBIAN_ROOT, DATA, num_train=10240,
                 num_test=2000)
    wheels = sorted(glob.glob(osp.join(WHEELS, '*.whl')))
    size = sum(map(osp.getsize, wheels))
    print(f'prepare: {len(wheels)} wheels in {osp.relpath(WHEELS, ROOT)}/ '
          f'({size / 2**20:.1f} MiB): ' +
          ', '.join(osp.basename(w).split('-')[0] for w in wheels))
    data = sum(map(osp.getsize, glob.glob(osp.join(DATA, '*'))))
    print(f'prepare: Fashion-MNIST subset in {osp.relpath(DATA, ROOT)}/ '
          f'({data / 2**20:.1f} MiB)')
    total = travelling_bytes()
    print(f'prepare: the working tree that travels is {total / 2**20:.1f} '
          f'MiB (limit {LIMIT / 2**20:.0f} MiB)')
    if total > LIMIT:
        sys.exit('prepare: too large to travel; remove untracked files or '
                 'build outputs from the checkout')


if __name__ == '__main__':
    main()
