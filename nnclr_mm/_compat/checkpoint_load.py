"""mmengine checkpoints under torch's ``weights_only`` loading.

torch >= 2.6 loads with ``weights_only=True`` by default, and mmengine's
resume then fails on the ``HistoryBuffer`` and numpy objects of the message
hub. The fix allow-lists exactly those types and loads local checkpoints
with ``weights_only=True`` said explicitly, so loading still never runs
code; a refused checkpoint is named in the error, and a damaged one (empty,
truncated, not a checkpoint) is told apart from an unsafe one. torch.load
does not check the CRC-32 its zip format records for every tensor at save,
so a bit flipped on disk loads silently: every local load (resume, load_from,
get_model, FeatureExtractor, the tools) now verifies them first.
"""
import logging
import os.path as osp
import pickle
from typing import Callable

import numpy as np
import torch
import torch.serialization

#: The first torch release that loads with ``weights_only=True`` by default.
FIRST_WEIGHTS_ONLY_TORCH = '2.6.0'

_HISTORY_BUFFER_DEFAULT_STATISTICS = ('min', 'max', 'current', 'mean')


def needed() -> bool:
    """Whether torch loads with ``weights_only=True`` by default."""
    from mmengine.utils import digit_version
    return digit_version(torch.__version__) >= digit_version(
        FIRST_WEIGHTS_ONLY_TORCH)


def history_buffer_getattr(obj: type, name: str) -> Callable:
    """``getattr`` restricted to HistoryBuffer's statistics methods.

    ``HistoryBuffer.__getstate__`` pickles its statistics methods as
    ``getattr(HistoryBuffer, 'mean')``. Registered under the name
    ``builtins.getattr`` for ``weights_only`` loading, this resolves exactly
    those references and refuses any other attribute of any other object.

    Args:
        obj (type): Must be :class:`mmengine.logging.HistoryBuffer`.
        name (str): A statistics method registered on it.
    """
    from mmengine.logging import HistoryBuffer

    # The defaults are registered lazily by HistoryBuffer.__init__, so a
    # fresh process may not have them in _statistics_methods yet.
    allowed = {*_HISTORY_BUFFER_DEFAULT_STATISTICS,
               *HistoryBuffer._statistics_methods}
    if obj is not HistoryBuffer or name not in allowed:
        raise pickle.UnpicklingError(
            f'refusing getattr({obj!r}, {name!r}) while loading a checkpoint:'
            ' only HistoryBuffer statistics methods are allowed')
    return getattr(obj, name)


def checkpoint_safe_globals() -> list:
    """The globals an mmengine checkpoint needs beyond torch's defaults.

    Each entry is an object or an ``(object, 'dotted.name')`` pair, the form
    :func:`torch.serialization.add_safe_globals` takes. numpy types are
    listed under their numpy 1 and numpy 2 module paths, so checkpoints
    written under either load.
    """
    from mmengine.logging import HistoryBuffer
    try:
        from numpy._core import multiarray
    except ImportError:  # numpy 1
        from numpy.core import multiarray
    safe = [HistoryBuffer, np.ndarray, np.dtype,
            (history_buffer_getattr, 'builtins.getattr')]
    for core in ('numpy.core', 'numpy._core'):
        safe += [(multiarray._reconstruct, f'{core}.multiarray._reconstruct'),
                 (multiarray.scalar, f'{core}.multiarray.scalar')]
    # numpy >= 1.25 pickles dtypes through their classes in numpy.dtypes.
    safe += [getattr(np.dtypes, name) for name in dir(np.dtypes)
             if name.endswith('DType') and name not in ('ObjectDType',
                                                        'VoidDType')]
    return safe


#: How torch.save's pre-zip format (``_use_new_zipfile_serialization=False``)
#: starts: its magic number, pickled with protocol 2.
_LEGACY_TORCH_PREFIX = pickle.dumps(0x1950a86a20f9469cfc6c, protocol=2)[:-1]


def _is_legacy_torch_file(filename: str) -> bool:
    with open(filename, 'rb') as f:
        return f.read(len(_LEGACY_TORCH_PREFIX)) == _LEGACY_TORCH_PREFIX


def load_from_local(filename: str, map_location=None):
    """mmengine's local checkpoint loader: the file's checksums verified,
    ``weights_only=True`` said explicitly, and refusals that name the file.

    torch's own message suggests loading with ``weights_only=False``; a
    checkpoint written by mmengine never needs that, and one that does
    holds objects that could run code when loaded.

    Args:
        filename (str): Local checkpoint path.
        map_location (optional): Same as :func:`torch.load`.
    """
    from mmengine.logging import print_log

    from ..engine.checkpoint_io import unreadable_reason
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(
            f'checkpoint {filename!r} does not exist; check the path given '
            'to --resume, load_from or last_checkpoint')
    legacy = _is_legacy_torch_file(filename)
    damage = None if legacy else unreadable_reason(filename)
    if damage is not None:
        raise RuntimeError(
            f'cannot load checkpoint {filename}: it {damage}: a write that '
            'did not finish, a partial copy, a bit flipped on disk, or not '
            'a checkpoint at all. Resume from another checkpoint with '
            '--resume PATH (--resume auto picks the newest intact one).')
    if legacy:
        print_log(f'{filename} could not be verified: torch\'s pre-zip '
                  'format holds no checksums', logger='current',
                  level=logging.WARNING)
    try:
        return torch.load(filename, map_location=map_location,
                          weights_only=True)
    except pickle.UnpicklingError as error:
        # torch's message is long; keep the line that names the global.
        reason = next((line.strip() for line in str(error).splitlines()
                       if 'GLOBAL' in line), 'unsupported content')
        raise pickle.UnpicklingError(
            f'refusing to load checkpoint {filename}: it holds objects '
            f'outside the allow-list of safe types ({reason}). Checkpoints '
            'written by mmengine never do; loading this one could run '
            'arbitrary code.') from None


def allow_checkpoint_types() -> None:
    """Allow-list :func:`checkpoint_safe_globals` for ``weights_only`` and
    load local checkpoints through :func:`load_from_local`."""
    from mmengine.runner.checkpoint import CheckpointLoader
    torch.serialization.add_safe_globals(checkpoint_safe_globals())
    CheckpointLoader.register_scheme(
        prefixes='', loader=load_from_local, force=True)
