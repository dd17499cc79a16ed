"""The plugin's configs in mmpretrain's model index.

``.mim/model-index.yml`` imports ``configs/nnclr/metafile.yml``
(``.mim/configs`` links to the repository's ``configs``), the layout
mmpretrain and mim read.
Registering it with :class:`mmpretrain.apis.ModelHub` makes
``mmpretrain.list_models('*nnclr*')`` list the NNCLR configs and
``get_model(NAME)`` build them by name.
"""
import os.path as osp

#: The folder mim looks in: ``<package>/.mim/model-index.yml``.
MIM_DIR = osp.join(osp.dirname(osp.abspath(__file__)), '.mim')


def register_model_index() -> None:
    """Add the plugin's models to mmpretrain's ModelHub."""
    from mmpretrain.apis import ModelHub
    ModelHub.register_model_index(
        osp.join(MIM_DIR, 'model-index.yml'), config_prefix=MIM_DIR)
