"""mmengine's package helpers without ``pkg_resources``.

mmengine <= 0.10.7 implements ``is_installed`` and ``get_installed_path``
(:mod:`mmengine.utils.package_utils`) with ``pkg_resources``, which
setuptools 81 removed, so every ``_base_ = 'mmpretrain::...'`` config fails
to load with an ImportError. The fix rebinds both, and ``package2module``,
to :mod:`importlib.metadata` versions wherever mmengine imported them; the
installed path of an editable install (PEP 660) is where its code is
imported from, not the site-packages folder its metadata is in.
"""
import importlib.metadata
import importlib.util
import os.path as osp

from ._patching import rebind

_PACKAGE_UTILS_USERS = ('mmengine.utils.package_utils', 'mmengine.utils',
                        'mmengine.config.config', 'mmengine.hub.hub')


def needed() -> bool:
    """Whether ``pkg_resources`` is missing (setuptools >= 81)."""
    return importlib.util.find_spec('pkg_resources') is None


def is_installed(package: str) -> bool:
    """Whether ``package`` is installed (``importlib.metadata`` version of
    :func:`mmengine.utils.is_installed`).

    Args:
        package (str): Distribution or module name.
    """
    try:
        importlib.metadata.distribution(package)
        return True
    except importlib.metadata.PackageNotFoundError:
        spec = importlib.util.find_spec(package)
        return spec is not None and spec.origin is not None


def package2module(package: str) -> str:
    """Module name of an installed distribution, from its ``top_level.txt``.

    Args:
        package (str): Distribution name, e.g. ``'mmcv-lite'``.
    """
    top_level = importlib.metadata.distribution(package).read_text(
        'top_level.txt')
    if not top_level:
        raise ValueError(f'can not infer the module name of {package}')
    return top_level.split('\n')[0]


def get_installed_path(package: str) -> str:
    """Directory of an installed package (``importlib.metadata`` version of
    :func:`mmengine.utils.get_installed_path`).

    Args:
        package (str): Distribution or module name.
    """
    try:
        dist = importlib.metadata.distribution(package)
    except importlib.metadata.PackageNotFoundError as error:
        # Not installed, but possibly importable through PYTHONPATH.
        spec = importlib.util.find_spec(package)
        if spec is None:
            raise
        if spec.origin is None:
            raise RuntimeError(
                f'{package} is a namespace package, which is invalid '
                'for `get_install_path`') from error
        return osp.dirname(spec.origin)
    location = str(dist.locate_file(''))
    possible_path = osp.join(location, package)
    if osp.exists(possible_path):
        return possible_path
    module = package2module(package)
    spec = importlib.util.find_spec(module)
    if not osp.exists(osp.join(location, module)) and spec is not None \
            and spec.origin is not None:
        # An editable install: the code is where Python imports it from.
        return osp.dirname(spec.origin)
    return osp.join(location, module)


def fix_package_utils() -> None:
    """Use :mod:`importlib.metadata` instead of ``pkg_resources``."""
    import mmengine.config.config  # noqa: F401
    import mmengine.hub.hub  # noqa: F401
    import mmengine.utils.package_utils  # noqa: F401
    for fn in (is_installed, get_installed_path, package2module):
        rebind(_PACKAGE_UTILS_USERS, fn.__name__, fn)
