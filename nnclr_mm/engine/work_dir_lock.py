"""One live training run per work dir.

Two runs on one work dir (the same command in a second terminal, a slurm
job requeued while the first still runs) resume from each other's
checkpoints, overwrite ``last_checkpoint`` and retire each other's files.
A training run therefore holds an exclusive POSIX lock (``fcntl``) on
``WORK_DIR/run.lock`` for its whole life; the operating system releases it
when the process ends in any way (SIGKILL included), so no stale lock is
ever left to remove by hand. A POSIX lock belongs to the process alone:
dataloader workers it forks do not inherit it, so workers that outlive a
killed run for a moment do not keep the next run out. A second run is
refused before it writes anything, naming the work dir and the holder's
pid, host and command.

POSIX locks work on local file systems and on NFS (through the NFS lock
protocol); a file system without working locks (some FUSE mounts, Lustre
mounted without ``flock``) makes the run go on with a warning that nothing
guards the work dir.
"""
import errno
import fcntl
import json
import logging
import os
import os.path as osp
import socket
import sys
import time
from typing import Optional

#: The lock file in the work dir.
LOCK_FILE = 'run.lock'
#: The lock files this process holds: a POSIX lock does not keep the
#: process's own second attempt out, so this does.
_HELD = set()


class WorkDirBusyError(RuntimeError):
    """Another live process holds the work dir's lock."""


class WorkDirLock:
    """An exclusive lock on a work dir, held until :meth:`release` or the
    end of the process.

    Args:
        work_dir (str): The run's work dir; created if missing.

    Examples:
        >>> import tempfile
        >>> from nnclr_mm.engine import WorkDirBusyError, WorkDirLock
        >>> work_dir = tempfile.mkdtemp()
        >>> first = WorkDirLock(work_dir).acquire()
        >>> try:  # another process is told the pid, host and command
        ...     WorkDirLock(work_dir).acquire()
        ... except WorkDirBusyError as error:
        ...     print('in use by this process' in str(error))
        True
        >>> first.release()
        >>> WorkDirLock(work_dir).acquire().release()
    """

    def __init__(self, work_dir: str) -> None:
        self.work_dir = work_dir
        self.path = osp.join(work_dir, LOCK_FILE)
        self._fd: Optional[int] = None

    def acquire(self) -> 'WorkDirLock':
        """Take the lock, then record this process in the lock file.

        Returns:
            WorkDirLock: ``self``.

        Raises:
            WorkDirBusyError: If another process holds it, naming the work
                dir and the holder; nothing in the work dir is changed.
        """
        from mmengine.logging import print_log
        os.makedirs(self.work_dir, exist_ok=True)
        if osp.realpath(self.path) in _HELD:
            raise WorkDirBusyError(
                f'{self.work_dir} is in use by this process already; give '
                'this run another work_dir.')
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            if error.errno not in (errno.EAGAIN, errno.EACCES):
                os.close(fd)
                print_log(
                    f'cannot lock {self.path} ({error.strerror}): this file '
                    'system has no working locks, so nothing keeps a second '
                    f'run off {self.work_dir}; start one run per work dir',
                    logger='current', level=logging.WARNING)
                return self
            holder = _describe(os.read(fd, 4096))
            os.close(fd)
            raise WorkDirBusyError(
                f'{self.work_dir} is in use by {holder}. Two runs on one '
                'work dir destroy each other\'s checkpoints: wait for it to '
                'end (or stop it), or give this run another --work-dir.'
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps(dict(
            pid=os.getpid(), host=socket.gethostname(),
            started=time.strftime('%Y-%m-%d %H:%M:%S'),
            command=' '.join(sys.argv))).encode())
        os.fsync(fd)
        self._fd = fd
        _HELD.add(osp.realpath(self.path))
        return self

    def release(self) -> None:
        """Let the lock go (the lock file stays, naming the last holder)."""
        if self._fd is not None:
            _HELD.discard(osp.realpath(self.path))
            # Closing the file releases the lock.
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> 'WorkDirLock':
        return self.acquire()

    def __exit__(self, *exc_info) -> None:
        self.release()


def _describe(record: bytes) -> str:
    try:
        holder = json.loads(record)
        return (f'the run of pid {holder["pid"]} on {holder["host"]}, '
                f'started {holder["started"]} ({holder["command"]})')
    except (ValueError, KeyError, TypeError):
        # Locked a moment ago, not yet recorded.
        return 'another run that has just started'
