"""Checkpoint files that a kill at any moment cannot destroy: atomic
writes, integrity checks, finding what to resume from, and retiring what a
stopped run left.

The runner's checkpoints go through these functions once ``nnclr_mm`` is
imported (:mod:`nnclr_mm._compat.atomic_checkpoint` routes mmengine's
``LocalBackend.put``, ``CheckpointHook`` and ``--resume auto`` here); the
hooks use them directly.

- :func:`atomic_write` writes to a temporary file beside the target,
  fsyncs and renames it, so a file is the previous one or the complete new
  one; :func:`remove_stale_temporaries` removes what a killed write left.
- :func:`unreadable_reason` checks a torch checkpoint (a zip archive)
  against its own structure and the CRC-32 torch records for every tensor
  at save: a truncated file or a flipped bit is found before loading.
- :func:`find_resumable_checkpoint` is what ``--resume auto`` resumes from:
  the checkpoint ``last_checkpoint`` names, or the newest intact one.
- :func:`retire_leftovers` removes the checkpoints beyond
  ``max_keep_ckpts`` that a stop between writing the new one and removing
  the old one left.
"""
import glob
import logging
import os
import os.path as osp
import re
import tempfile
import zipfile
from typing import Iterable, List, Optional, Tuple, Union

#: What CheckpointHook and PreemptionCheckpointHook name their files.
CHECKPOINT_PATTERNS = ('epoch_*.pth', 'iter_*.pth')


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


def retire_leftovers(out_dir: str, filename_tmpl: str,
                     kept: Iterable[int]) -> List[str]:
    """Remove the checkpoints in ``out_dir`` named by ``filename_tmpl``
    (``'epoch_{}.pth'``, ``'iter_{}.pth'``) whose step is older than the
    newest of ``kept`` and not kept. Newer files and other names are never
    touched.

    Args:
        out_dir (str): The local folder of the run's checkpoints.
        filename_tmpl (str): Their names, ``{}`` standing for the step.
        kept (Iterable[int]): The steps ``max_keep_ckpts`` keeps.

    Returns:
        list[str]: The removed files.

    Examples:
        >>> import os, tempfile
        >>> folder = tempfile.mkdtemp()
        >>> for name in ('iter_1.pth', 'iter_2.pth', 'iter_3.pth',
        ...              'my_iter_1.pth', 'iter_9.pth'):
        ...     open(os.path.join(folder, name), 'w').close()
        >>> [os.path.basename(p) for p in
        ...  retire_leftovers(folder, 'iter_{}.pth', kept=[2, 3])]
        ['iter_1.pth']
    """
    kept = set(kept)
    if not kept or not osp.isdir(out_dir):
        return []
    name = re.compile(r'(\d+)'.join(map(re.escape,
                                         filename_tmpl.split('{}'))))
    removed = []
    for entry in sorted(os.listdir(out_dir)):
        match = name.fullmatch(entry)
        path = osp.join(out_dir, entry)
        if (match and int(match[1]) < max(kept)
                and int(match[1]) not in kept and osp.isfile(path)):
            os.remove(path)
            removed.append(path)
    return removed
