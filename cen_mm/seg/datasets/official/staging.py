"""A restartable, atomic conversion: samples go into a staging folder next to OUT.

``Staging(out, job)`` owns ``.OUT.partial/`` (fixed name, so a second run finds it).
Every file is written under a temporary name and renamed into place; a sample counts
as done once its statistics file ``.stats/SPLIT/NAME.json`` exists (written last). A
rerun with the same ``job`` (options + source identity) skips the samples already done;
with a different job the old staging folder is discarded. :meth:`Staging.finish` writes
the list files and ``meta.json`` and renames the staging folder to OUT, so a folder
named OUT is always a complete conversion.
"""
import json
import os
import os.path as osp
import shutil
from typing import Dict, Iterable, List, Optional

import cv2
import numpy as np

from ..conversion import SPLITS, ConversionError, _split_summary

JOB_FILE = '.job.json'
STATS_DIR = '.stats'


TMP_TAG = '.tmp-'


def atomic_write_bytes(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file + rename (no partial file is
    left behind, also when interrupted)."""
    tmp = f'{path}{TMP_TAG}{os.getpid()}'
    try:
        with open(tmp, 'wb') as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


def remove_temporaries(root: str) -> int:
    """Delete leftover temporary files (of a killed run) below ``root``; their count."""
    removed = 0
    for folder, _, files in os.walk(root):
        for name in files:
            if TMP_TAG in name:
                os.remove(osp.join(folder, name))
                removed += 1
    return removed


def atomic_write_json(path: str, obj) -> None:
    atomic_write_bytes(path, json.dumps(obj, indent=2).encode())


def atomic_write_png(path: str, array: np.ndarray) -> None:
    """PNG-encode ``array`` (uint8 BGR / grey or uint16 grey) and write it atomically."""
    ok, buf = cv2.imencode('.png', array)
    if not ok:
        raise ConversionError(f'could not encode {path} as PNG (array {array.shape} '
                              f'{array.dtype})')
    atomic_write_bytes(path, buf.tobytes())


def source_identity(*paths: str) -> List[list]:
    """(path, size, mtime) of the source files: a changed source restarts from scratch."""
    ident = []
    for path in paths:
        st = os.stat(path)
        ident.append([osp.abspath(path), st.st_size, int(st.st_mtime)])
    return ident


class Staging:
    """The staging folder of one conversion (see the module docstring)."""

    def __init__(self, out: str, job: dict, folders: Iterable[str],
                 overwrite: bool = False):
        self.out = osp.abspath(out)
        if osp.lexists(self.out) and not overwrite:
            raise ConversionError(f'output {out} already exists; pass --overwrite to '
                                  'replace it')
        if osp.lexists(self.out) and not osp.isdir(self.out):
            raise ConversionError(f'output {out} exists and is not a directory')
        self.root = osp.join(osp.dirname(self.out), f'.{osp.basename(self.out)}.partial')
        self.job = json.loads(json.dumps(job))  # normalised (tuples -> lists)
        self.resumed = False
        job_path = osp.join(self.root, JOB_FILE)
        if osp.isdir(self.root):
            try:
                with open(job_path) as f:
                    self.resumed = json.load(f) == self.job
            except (OSError, ValueError):
                self.resumed = False
            if not self.resumed:
                shutil.rmtree(self.root)
            else:
                remove_temporaries(self.root)
        os.makedirs(self.root, exist_ok=True)
        for folder in list(folders) + [STATS_DIR]:
            for split in SPLITS:
                os.makedirs(osp.join(self.root, folder, split), exist_ok=True)
        if not self.resumed:
            atomic_write_json(job_path, self.job)

    def path(self, folder: str, split: str, name: str, ext: str = '.png') -> str:
        return osp.join(self.root, folder, split, name + ext)

    def done(self, split: str, name: str) -> Optional[dict]:
        """The statistics of a finished sample, or None."""
        path = self.path(STATS_DIR, split, name, '.json')
        if not osp.isfile(path):
            return None
        try:
            with open(path) as f:
                return json.load(f)
        except ValueError:
            return None  # cannot happen with atomic writes; redo the sample

    def mark_done(self, split: str, name: str, stats: dict) -> None:
        atomic_write_json(self.path(STATS_DIR, split, name, '.json'), stats)

    def finish(self, lists: Dict[str, List[str]], meta: dict,
               extra_files: Optional[Dict[str, object]] = None) -> None:
        """Write list files, ``meta.json`` (+ extra JSON files) and publish as OUT."""
        for split, names in lists.items():
            atomic_write_bytes(osp.join(self.root, f'{split}.txt'),
                               ''.join(n + '\n' for n in names).encode())
        for fname, obj in (extra_files or {}).items():
            atomic_write_json(osp.join(self.root, fname), obj)
        atomic_write_json(osp.join(self.root, 'meta.json'), meta)
        shutil.rmtree(osp.join(self.root, STATS_DIR))
        os.remove(osp.join(self.root, JOB_FILE))
        if osp.lexists(self.out):
            old = osp.join(osp.dirname(self.out),
                           f'.{osp.basename(self.out)}.old-{os.getpid()}')
            os.rename(self.out, old)
            os.rename(self.root, self.out)
            shutil.rmtree(old)
        else:
            os.rename(self.root, self.out)


def split_summary(stats: List[dict]) -> dict:
    """``conversion``'s per-split figures (sizes, holes, ignored pixels) from per-sample
    stats as stored by :meth:`Staging.mark_done` (JSON lists -> arrays)."""
    return _split_summary([
        dict(s, label_counts=np.asarray(s['label_counts'], np.int64),
             size=tuple(s['size']), cropped=False) for s in stats])


def run_conversion(convert, out: str, format_summary) -> int:
    """Run ``convert()`` for a command-line tool: print its summary (``format_summary``)
    and return 0; on a :class:`ConversionError` or Ctrl-C print what happened to ``out``
    and how to resume, and return 1 / 130."""
    import sys
    try:
        summary = convert()
    except ConversionError as err:
        print(f'error: {err}', file=sys.stderr)
        print(f'{out} was not written (samples already converted are kept in the '
              'hidden .partial folder next to it and reused by the next run)',
              file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print('interrupted: rerun the same command to resume', file=sys.stderr)
        return 130
    print(format_summary(summary))
    return 0
