"""Checkpoints that a kill at any moment cannot destroy.

mmengine <= 0.10.7 writes a local file in place (``LocalBackend.put`` opens
the final path and writes), its ``CheckpointHook`` removes the oldest
checkpoint before it writes the new one, and it writes ``last_checkpoint``
in place. A SIGKILL while ``iter_2.pth`` is written at ``max_keep_ckpts=1``
leaves a truncated ``iter_2.pth``, ``iter_1.pth`` already deleted, and
``--resume auto`` with nothing to resume from.

The fix writes each local file to a temporary file beside it, flushes and
fsyncs it and renames it over the target, so a file is either the old one
or the complete new one; removes an old checkpoint only after its successor
and ``last_checkpoint`` are complete; lets ``--resume auto`` fall back
to the newest intact checkpoint when the one ``last_checkpoint`` names is
missing or unreadable, saying which it skipped and why (and removing the
temporary file a killed write left behind); and, as a resumed run starts,
removes the checkpoints a kill between writing the new one and removing
the old one left beyond ``max_keep_ckpts``.
"""
import builtins
import functools
import glob
import io
import logging
import os
import os.path as osp
import re
import tempfile
import zipfile
from typing import Callable, List, Optional, Tuple, Union

from ._patching import is_wrapper, mark_wrapper, mmengine_at_most, rebind

#: The newest mmengine release that writes checkpoints in place.
LAST_BROKEN_MMENGINE = '0.10.7'
#: What CheckpointHook and PreemptionCheckpointHook name their files.
CHECKPOINT_PATTERNS = ('epoch_*.pth', 'iter_*.pth')


def needed() -> bool:
    """Whether mmengine is a release that writes checkpoints in place."""
    return mmengine_at_most(LAST_BROKEN_MMENGINE)


def _file_mode() -> int:
    # What open(path, 'w') gives: 0o666 less the process umask, read once
    # at import (os.umask can only be read by setting it).
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


_FILE_MODE = _file_mode()


def atomic_write(path: str, data: Union[bytes, str]) -> None:
    """Write ``data`` to ``path`` so that a kill at any moment leaves either
    the previous file or the complete new one.

    Args:
        path (str): The target file; its folder must exist.
        data (bytes | str): The content; ``str`` is written as UTF-8.

    Raises:
        OSError: If writing fails (e.g. a full disk), naming ``path``; the
            previous file is then unchanged.
    """
    if isinstance(data, str):
        data = data.encode('utf-8')
    folder = osp.dirname(osp.abspath(path))
    fd, tmp = tempfile.mkstemp(
        dir=folder, prefix=f'.{osp.basename(path)}.', suffix='.tmp')
    try:
        with os.fdopen(fd, 'wb') as f:
            os.fchmod(f.fileno(), _FILE_MODE)
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as error:
        if osp.exists(tmp):
            os.remove(tmp)
        if isinstance(error, OSError):
            raise OSError(
                error.errno, f'could not write {path} ({error.strerror}); '
                'the previous file, if any, is unchanged. Free space in '
                f'{folder} or choose another work_dir') from error
        raise
    # The rename itself is durable once the folder's entry is on disk.
    dir_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def remove_stale_temporaries(folder: str) -> List[str]:
    """Remove what :func:`atomic_write` leaves when killed mid-write.

    Called when a run resumes, before anything writes into ``folder``.

    Args:
        folder (str): A work dir.

    Returns:
        list[str]: The removed files.
    """
    stale = glob.glob(osp.join(folder, '.*.tmp'))
    for path in stale:
        os.remove(path)
    return stale


def unreadable_reason(path: str) -> Optional[str]:
    """Why the checkpoint at ``path`` cannot be resumed from, or None.

    A torch checkpoint is a zip archive; a missing, empty, truncated or
    otherwise damaged file fails the archive's own checks (central
    directory, CRC of every member).

    Args:
        path (str): The checkpoint file.
    """
    if osp.isdir(path):  # a sharded (DeepSpeed) checkpoint
        return None
    if not osp.isfile(path):
        return 'does not exist'
    if osp.getsize(path) == 0:
        return 'is empty (0 bytes)'
    try:
        with zipfile.ZipFile(path) as archive:
            damaged = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        return f'is not a complete checkpoint ({error})'
    if damaged is not None:
        return f'is damaged (member {damaged} fails its CRC)'
    return None


def recorded_checkpoint(work_dir: str) -> Tuple[Optional[str], str]:
    """The path ``work_dir/last_checkpoint`` names (None when the file is
    missing or empty) and a description of it for messages.

    Args:
        work_dir (str): The run's work dir.
    """
    record = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(record):
        return None, f'{record} does not exist'
    with open(record) as f:
        recorded = f.read().strip()
    if not recorded:
        return None, f'{record} is empty'
    return recorded, f'{record} names {recorded}'


def find_resumable_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint ``--resume auto`` resumes from: the one
    ``last_checkpoint`` names if it is intact, else the newest intact
    ``epoch_*.pth`` or ``iter_*.pth`` beside it or in ``work_dir``.

    Args:
        work_dir (str): The run's work dir.

    Returns:
        str | None: The checkpoint, or None when the work dir holds none
        (a fresh start).

    Raises:
        FileNotFoundError: If checkpoints are recorded or present but none
            is intact, naming each and what is wrong with it.
    """
    from mmengine.logging import print_log
    recorded, described = recorded_checkpoint(work_dir)
    if recorded is not None and '://' in recorded:
        return recorded  # a remote out_dir: its backend checks it on load
    folders = [work_dir]
    if recorded is not None and osp.dirname(recorded) not in folders:
        folders.append(osp.dirname(recorded))
    for folder in folders:
        for path in remove_stale_temporaries(folder):
            print_log(f'--resume auto: removed {path}, left by a write that '
                      'was killed', logger='current')
    found = [
        path for folder in folders for pattern in CHECKPOINT_PATTERNS
        for path in glob.glob(osp.join(folder, pattern))
    ]
    candidates: List[str] = [recorded] if recorded is not None else []
    candidates += sorted(
        set(found) - set(candidates), key=osp.getmtime, reverse=True)
    skipped = []
    for path in candidates:
        reason = unreadable_reason(path)
        if reason is None:
            if path != recorded:
                skips = '; '.join(f'{p} {r}' for p, r in skipped)
                print_log(
                    f'--resume auto: {described}, which cannot be used '
                    f'({skips or "no record"}); resuming from {path}, the '
                    'newest intact checkpoint.',
                    logger='current', level=logging.WARNING)
            return path
        skipped.append((path, reason))
    if not skipped:
        print_log(f'--resume auto: {described}; starting from scratch.',
                  logger='current')
        return None
    raise FileNotFoundError(
        f'--resume auto found no intact checkpoint in {work_dir}: ' +
        '; '.join(f'{path} {reason}' for path, reason in skipped) +
        '. Resume from another file with --resume PATH, or train from '
        'scratch without --resume (after moving the work dir aside).')


def _atomic_put(put: Callable) -> Callable:
    """Wrap ``LocalBackend.put`` to write through :func:`atomic_write`."""

    @functools.wraps(put)
    def wrapper(self, obj: bytes, filepath) -> None:
        import mmengine
        filepath = str(filepath)
        mmengine.mkdir_or_exist(osp.dirname(filepath))
        atomic_write(filepath, obj)

    return mark_wrapper(wrapper)


class _AtomicTextFile(io.StringIO):
    """A text file written by :func:`atomic_write` when closed."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path

    def close(self) -> None:
        if not self.closed:
            atomic_write(self.path, self.getvalue())
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


def retire_leftovers(hook, runner) -> List[str]:
    """Remove this run's checkpoints that ``hook`` (a ``CheckpointHook``)
    no longer keeps: files named by its ``filename_tmpl`` in its local
    ``out_dir``, older than the newest one it keeps and not kept. Newer
    files, other names and other folders are never touched.

    Args:
        hook (CheckpointHook): The run's hook, after its ``before_train``
            (which reads the kept steps from the resumed message hub).
        runner (Runner): The resumed runner.

    Returns:
        list[str]: The removed files.
    """
    from mmengine.dist import is_main_process
    from mmengine.fileio.backends import LocalBackend
    kept = set(hook.keep_ckpt_ids) if hook.max_keep_ckpts > 0 else set()
    if (not kept or runner.iter == 0 or not is_main_process()
            or not isinstance(hook.file_backend, LocalBackend)
            or not osp.isdir(hook.out_dir)):
        return []
    name = re.compile(r'(\d+)'.join(
        map(re.escape, hook.filename_tmpl.split('{}'))))
    removed = []
    for entry in sorted(os.listdir(hook.out_dir)):
        match = name.fullmatch(entry)
        path = osp.join(hook.out_dir, entry)
        if (match and int(match[1]) < max(kept)
                and int(match[1]) not in kept and osp.isfile(path)):
            os.remove(path)
            removed.append(path)
    return removed


def _retiring_leftovers(before_train: Callable) -> Callable:
    """Wrap ``CheckpointHook.before_train`` to :func:`retire_leftovers`."""

    @functools.wraps(before_train)
    def wrapper(self, runner) -> None:
        from mmengine.logging import print_log
        before_train(self, runner)
        removed = retire_leftovers(self, runner)
        if removed:
            print_log(f'removed {", ".join(removed)}: beyond '
                      f'max_keep_ckpts={self.max_keep_ckpts}, left by a run '
                      'stopped before it retired them', logger='current')

    return mark_wrapper(wrapper)


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
               'find_latest_checkpoint',
               mark_wrapper(find_resumable_checkpoint))
