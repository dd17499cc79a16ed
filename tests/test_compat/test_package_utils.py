"""mmengine's package helpers without ``pkg_resources`` (setuptools >= 81):
unfixed fails, fixed works."""
import importlib.machinery
import importlib.util
import sys

import pytest
from mmengine.config import Config
from unpatched import load_unpatched

from nnclr_mm._compat import package_utils


@pytest.fixture
def no_pkg_resources(monkeypatch):
    # setuptools >= 81 ships no pkg_resources; None makes its import fail.
    monkeypatch.setitem(sys.modules, 'pkg_resources', None)


def test_needed_where_pkg_resources_is_missing(no_pkg_resources):
    assert package_utils.needed()


def test_not_needed_where_pkg_resources_is_importable(monkeypatch):
    spec = importlib.machinery.ModuleSpec('pkg_resources', None)
    monkeypatch.setitem(sys.modules, 'pkg_resources',
                        importlib.util.module_from_spec(spec))
    assert not package_utils.needed()


def test_unpatched_is_installed_needs_pkg_resources(no_pkg_resources):
    unpatched = load_unpatched('mmengine.utils.package_utils')
    with pytest.raises(ImportError):
        unpatched.is_installed('mmpretrain')
    with pytest.raises(ImportError):
        unpatched.get_installed_path('mmpretrain')


def test_package_utils_work_without_pkg_resources(no_pkg_resources):
    import mmpretrain
    assert package_utils.is_installed('mmpretrain')
    assert package_utils.is_installed('json')  # a module, no distribution
    assert not package_utils.is_installed('surely_not_a_package_xyz')
    assert package_utils.get_installed_path('mmpretrain') == \
        mmpretrain.__path__[0]
    # Distribution name differs from the module name.
    assert package_utils.package2module('mmcv-lite') == 'mmcv'


def test_an_editable_install_is_where_its_code_is(tmp_path, monkeypatch):
    # PEP 660: the metadata sits in site-packages, the code elsewhere.
    import importlib.metadata
    site, code = tmp_path / 'site', tmp_path / 'src' / 'mypkg'
    (site / 'mypkg-1.0.dist-info').mkdir(parents=True)
    (site / 'mypkg-1.0.dist-info' / 'METADATA').write_text(
        'Metadata-Version: 2.1\nName: mypkg\nVersion: 1.0\n')
    (site / 'mypkg-1.0.dist-info' / 'top_level.txt').write_text('mypkg\n')
    code.mkdir(parents=True)
    (code / '__init__.py').write_text('')
    monkeypatch.syspath_prepend(str(code.parent))
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    assert package_utils.get_installed_path('mypkg') == str(code)


@pytest.mark.skipif(not package_utils.needed(),
                    reason='pkg_resources is installed: not fixed')
def test_mmpretrain_base_config_loads_without_pkg_resources(
        no_pkg_resources, tmp_path):
    cfg_file = tmp_path / 'cfg.py'
    cfg_file.write_text("_base_ = 'mmpretrain::_base_/default_runtime.py'\n"
                        'custom = 1\n')
    cfg = Config.fromfile(str(cfg_file))
    assert cfg.custom == 1
    assert cfg.default_scope == 'mmpretrain'
