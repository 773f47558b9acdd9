"""Atomic file writes for checkpoints and ``last_checkpoint``.

A checkpoint is first written to a hidden temporary file next to its destination
(``.NAME.partial-PID``), flushed to disk, then renamed onto ``NAME`` (``os.replace`` is
atomic on POSIX within one file system). A process killed mid-write leaves at most a
stale ``.partial`` file, never a truncated checkpoint under the real name; stale
``.partial`` files of dead processes are removed at the next save in that folder.
"""
import glob
import os
import os.path as osp
import re
from typing import Callable

_PARTIAL = re.compile(r'^\..+\.partial-(\d+)$')


def pid_alive(pid: int) -> bool:
    """Whether a process with id ``pid`` exists (on this machine)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_partials(folder: str) -> None:
    """Delete ``.*.partial-PID`` files in ``folder`` whose writer process is gone."""
    for path in glob.glob(osp.join(folder, '.*.partial-*')):
        match = _PARTIAL.match(osp.basename(path))
        if match and not pid_alive(int(match.group(1))):
            try:
                os.remove(path)
            except OSError:
                pass


def _fsync_path(path: str, directory: bool = False) -> None:
    fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if directory else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: str, write: Callable[[str], None]) -> None:
    """Call ``write(tmp_path)`` and atomically move ``tmp_path`` onto ``path``.

    ``write`` must create ``tmp_path`` (a sibling of ``path``). On any error the
    temporary file is removed and ``path`` is untouched.
    """
    folder, name = osp.split(osp.abspath(path))
    remove_stale_partials(folder)
    tmp = osp.join(folder, f'.{name}.partial-{os.getpid()}')
    try:
        write(tmp)
        _fsync_path(tmp)
        os.replace(tmp, path)
    except BaseException:
        if osp.lexists(tmp):
            os.remove(tmp)
        raise
    try:
        _fsync_path(folder, directory=True)
    except OSError:  # some file systems refuse fsync on directories
        pass


def atomic_write_text(path: str, text: str) -> None:
    """Atomically replace the text file ``path`` (e.g. ``work_dir/last_checkpoint``)."""
    def write(tmp: str) -> None:
        with open(tmp, 'w') as f:
            f.write(text)
    atomic_write(path, write)
