"""The plugin's configs where mmengine, mmpretrain and mim look for them.

``.mim/configs`` links to the repository's ``configs`` (a wheel holds a
copy), and ``.mim/model-index.yml`` imports their metafiles: the layout of
OpenMMLab packages. :func:`register_configs` makes
``_base_ = 'nnclr_mm::nnclr/...py'`` and ``mmengine.hub.get_config``
resolve in that folder (mmengine knows only the packages of its
``MODULE2PACKAGE`` table), and ``mmpretrain.list_models('*nnclr*')`` and
``get_model(NAME)`` find the configs by name.
"""
import os.path as osp

#: The folder mim and mmengine look in: ``<package>/.mim``.
MIM_DIR = osp.join(osp.dirname(osp.abspath(__file__)), '.mim')


def register_configs() -> None:
    """Add the package to mmengine's config packages and its models to
    mmpretrain's ModelHub."""
    from mmengine.config.utils import MODULE2PACKAGE
    from mmpretrain.apis import ModelHub
    MODULE2PACKAGE.setdefault('nnclr_mm', 'nnclr_mm')
    ModelHub.register_model_index(
        osp.join(MIM_DIR, 'model-index.yml'), config_prefix=MIM_DIR)
