"""Checkpoints that a kill at any moment cannot destroy.

mmengine <= 0.10.7 writes a local file in place (``LocalBackend.put`` opens
the final path and writes), its ``CheckpointHook`` removes the oldest
checkpoint before it writes the new one, and it writes ``last_checkpoint``
in place. A SIGKILL while ``iter_2.pth`` is written at ``max_keep_ckpts=1``
leaves a truncated ``iter_2.pth``, ``iter_1.pth`` already deleted, and
``--resume auto`` with nothing to resume from.

The fix routes them through :mod:`nnclr_mm.engine.checkpoint_io`: each
local file is written to a temporary file beside it, fsynced and renamed
over the target, so a file is either the old one or the complete new one;
an old checkpoint is removed only after its successor and
``last_checkpoint`` are complete; ``--resume auto`` falls back to the
newest intact checkpoint when the one ``last_checkpoint`` names is
missing or unreadable, saying which it skipped and why (and removing the
temporary file a killed write left behind); and, as a resumed run starts,
the checkpoints a kill between writing the new one and removing
the old one left beyond ``max_keep_ckpts`` are removed.
"""
import builtins
import functools
import io
import os.path as osp
from typing import Callable, Optional

from ._patching import is_wrapper, mark_wrapper, mmengine_at_most, rebind

#: The newest mmengine release that writes checkpoints in place.
LAST_BROKEN_MMENGINE = '0.10.7'


def needed() -> bool:
    """Whether mmengine is a release that writes checkpoints in place."""
    return mmengine_at_most(LAST_BROKEN_MMENGINE)


def _io():
    # Imported when first used: the engine is imported after the fixes.
    from ..engine import checkpoint_io
    return checkpoint_io


def _atomic_put(put: Callable) -> Callable:
    """Wrap ``LocalBackend.put`` to write through ``atomic_write``."""

    @functools.wraps(put)
    def wrapper(self, obj: bytes, filepath) -> None:
        import mmengine
        filepath = str(filepath)
        mmengine.mkdir_or_exist(osp.dirname(filepath))
        _io().atomic_write(filepath, obj)

    return mark_wrapper(wrapper)


class _AtomicTextFile(io.StringIO):
    """A text file written by ``atomic_write`` when closed."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path

    def close(self) -> None:
        if not self.closed:
            _io().atomic_write(self.path, self.getvalue())
        super().close()


def _open_last_checkpoint_atomically(file, mode='r', *args, **kwargs):
    """``open`` for CheckpointHook's module: ``last_checkpoint`` opened for
    writing becomes an :class:`_AtomicTextFile`."""
    if mode == 'w' and osp.basename(str(file)) == 'last_checkpoint':
        return _AtomicTextFile(str(file))
    return builtins.open(file, mode, *args, **kwargs)


def _removal_after_save(save_with_step: Callable) -> Callable:
    """Wrap ``CheckpointHook._save_checkpoint_with_step`` so that the
    checkpoint it retires is removed only after the new one and
    ``last_checkpoint`` are complete."""

    @functools.wraps(save_with_step)
    def wrapper(self, runner, step, meta) -> None:
        backend = self.file_backend
        deferred = []
        # Upstream removes first; hold its removals back until the end.
        backend.remove = lambda path: deferred.append((type(backend).remove,
                                                       path))
        backend.rmtree = lambda path: deferred.append((type(backend).rmtree,
                                                       path))
        try:
            save_with_step(self, runner, step, meta)
        finally:
            del backend.remove, backend.rmtree
        for remove, path in deferred:
            remove(backend, path)

    return mark_wrapper(wrapper)


def _retiring_leftovers(before_train: Callable) -> Callable:
    """Wrap ``CheckpointHook.before_train`` to retire what a stopped run
    left, once a resume has restored the steps the hook keeps."""

    @functools.wraps(before_train)
    def wrapper(self, runner) -> None:
        from mmengine.dist import is_main_process
        from mmengine.fileio.backends import LocalBackend
        from mmengine.logging import print_log
        before_train(self, runner)
        if (self.max_keep_ckpts <= 0 or runner.iter == 0
                or not is_main_process()
                or not isinstance(self.file_backend, LocalBackend)):
            return
        removed = _io().retire_leftovers(self.out_dir, self.filename_tmpl,
                                         self.keep_ckpt_ids)
        if removed:
            print_log(f'removed {", ".join(removed)}: beyond '
                      f'max_keep_ckpts={self.max_keep_ckpts}, left by a run '
                      'stopped before it retired them', logger='current')

    return mark_wrapper(wrapper)


@mark_wrapper
def _find_resumable(work_dir: str) -> Optional[str]:
    """``find_latest_checkpoint`` as ``--resume auto`` calls it."""
    return _io().find_resumable_checkpoint(work_dir)


def make_checkpoints_atomic() -> None:
    """Write checkpoints and ``last_checkpoint`` atomically, retire old
    checkpoints after their successor, resume from the newest intact one
    and retire what a stopped run left."""
    from mmengine.fileio.backends import LocalBackend
    from mmengine.hooks import CheckpointHook, checkpoint_hook
    from mmengine.runner import checkpoint

    if not is_wrapper(LocalBackend.put):
        LocalBackend.put = _atomic_put(LocalBackend.put)
    save = CheckpointHook._save_checkpoint_with_step
    if not is_wrapper(save):
        CheckpointHook._save_checkpoint_with_step = _removal_after_save(save)
    if not is_wrapper(CheckpointHook.before_train):
        CheckpointHook.before_train = _retiring_leftovers(
            CheckpointHook.before_train)
    # The hook writes last_checkpoint with the builtin open, in place.
    checkpoint_hook.open = _open_last_checkpoint_atomically
    if not is_wrapper(checkpoint.find_latest_checkpoint):
        rebind(('mmengine.runner.checkpoint', 'mmengine.runner.runner',
                 'mmengine.runner._flexible_runner', 'mmengine.runner'),
               'find_latest_checkpoint', _find_resumable)
