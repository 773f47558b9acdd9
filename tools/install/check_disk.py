"""Pre-flight check of setup_env.sh: is there room for the environment it is about to make?

    python tools/install/check_disk.py VENV_DIR [TMP_DIR]

A fresh `.venv` takes about 6.4 GB (torch 2.14.1's default wheel brings ~3.2 GB of nvidia-*
libraries and ~0.9 GB of triton), and pip fails half-way with `[Errno 28] No space left on
device` when the disk fills, after minutes of work. This check fails in a second instead,
naming the folder, what it has, what is needed and how to make room.

Needed space (GiB): CEN_MM_MIN_FREE_GB if set (0 turns the check off); otherwise 8 when the
venv has no torch yet (a first install) and 1 when it only refreshes an existing venv.
Exit status 0 when there is room, 1 (a line per folder on stderr) when there is not.
"""
import os
import shutil
import sys
from pathlib import Path

FIRST_INSTALL_GIB = 8.0
REFRESH_GIB = 1.0
GIB = 1024**3


def _existing(path: Path) -> Path:
    """The nearest existing folder at or above ``path`` (the venv may not exist yet)."""
    path = path.absolute()
    while not path.exists():
        path = path.parent
    return path


def _has_torch(venv: Path) -> bool:
    return any(venv.glob('lib/python3*/site-packages/torch/__init__.py'))


def needed_gib(venv: Path) -> float:
    """GiB the set-up needs free next to ``venv`` (see the module docstring)."""
    override = os.environ.get('CEN_MM_MIN_FREE_GB', '').strip()
    if override:
        try:
            return float(override)
        except ValueError:
            raise SystemExit(
                f'[setup_env] CEN_MM_MIN_FREE_GB={override!r} is not a number of GiB '
                '(e.g. 8, or 0 to skip the free-space check)')
    return REFRESH_GIB if _has_torch(venv) else FIRST_INSTALL_GIB


def check(venv: Path, tmp: Path) -> list:
    """Messages for every folder (venv's disk, temp folder) with too little free space."""
    need = needed_gib(venv)
    if need <= 0:
        return []
    problems, seen = [], set()
    for role, path in (('the virtual environment', venv), ('temporary files (TMPDIR)', tmp)):
        where = _existing(path)
        device = where.stat().st_dev
        if device in seen:  # the same file system: counted once
            continue
        seen.add(device)
        free = shutil.disk_usage(where).free / GIB
        if free < need:
            problems.append(
                f'{where} (for {role}) has {free:.1f} GiB free; the set-up needs about '
                f'{need:g} GiB there')
    return problems


def main(argv) -> int:
    """Exit 1 with one line per folder short of space on stderr (setup_env.sh's
    ``run_step`` adds the step name and the fix), 0 when there is room."""
    if len(argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    venv = Path(argv[1])
    tmp = Path(argv[2]) if len(argv) == 3 else Path(os.environ.get('TMPDIR', '/tmp'))
    problems = check(venv, tmp)
    for problem in problems:
        print(f'[setup_env]   {problem}', file=sys.stderr)
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
