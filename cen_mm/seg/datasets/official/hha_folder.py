"""Write ``hha/`` for a converted RGB-D dataset (``tools/.../depth2hha.py``).

Reads ``meta.json`` (dataset, depth encoding), ``{train,test}.txt`` and ``depth/``; writes
``hha/{train,test}/NAME.png`` (3×uint8, R/G/B = disparity, height, angle; see ``hha.py``)
and adds ``'hha'`` to ``meta.json``'s modalities. Intrinsics per frame, first match:
``--intrinsics``, the converter's ``camera.json`` (SUN RGB-D official release), the
built-in NYUDv2 / SUN RGB-D ones (``hha.intrinsics_for``). Files are computed into
``.hha.partial/`` inside the data root, each written atomically; a rerun skips the ones
already there, and the folder is renamed to ``hha/`` only when all are done.
"""
import json
import os
import os.path as osp
import shutil
import time
from typing import List, Optional, Sequence

import cv2
import numpy as np

from ..conversion import SPLITS, ConversionError
from ..depth_io import check_depth_encoding, decode_depth
from ..hha import CameraIntrinsics, depth_to_hha, intrinsics_for
from .staging import atomic_write_json, atomic_write_png, remove_temporaries

PARTIAL = '.hha.partial'


def _read_json(path: str, what: str) -> Optional[dict]:
    if not osp.isfile(path):
        return None
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as err:
        raise ConversionError(f'{what} {path} is not readable JSON: {err}') from None


def _names(data_root: str, split: str) -> List[str]:
    path = osp.join(data_root, f'{split}.txt')
    if osp.isfile(path):
        with open(path) as f:
            return [line.strip() for line in f if line.strip()]
    folder = osp.join(data_root, 'depth', split)
    if not osp.isdir(folder):
        raise ConversionError(f'{data_root}: neither {split}.txt nor depth/{split}/')
    return sorted(f[:-4] for f in os.listdir(folder) if f.endswith('.png'))


def hha_for_file(task: tuple) -> float:
    """Compute and write one HHA image; returns the seconds the HHA itself took."""
    (depth_path, out_path, encoding, dataset, override, recorded, radius) = task
    raw = cv2.imread(depth_path, cv2.IMREAD_UNCHANGED)
    if raw is None:
        raise ConversionError(f'missing or unreadable depth file {depth_path}')
    if raw.ndim != 2:
        raise ConversionError(f'depth file {depth_path} has {raw.shape[2]} channels, '
                              'expected a single-channel depth map')
    h, w = raw.shape
    if override is not None:
        k = CameraIntrinsics(*override)
    elif recorded is not None:
        k = CameraIntrinsics(*recorded)
    else:
        try:
            k, _ = intrinsics_for(dataset, (w, h))
        except ValueError as err:
            raise ConversionError(f'{depth_path}: {err}') from None
    metres = decode_depth(raw, encoding)
    if not np.any(metres > 0):
        raise ConversionError(f'depth file {depth_path} has no valid pixel: HHA is '
                              'undefined')
    start = time.perf_counter()
    hha = depth_to_hha(metres, k, radius=radius)
    seconds = time.perf_counter() - start
    atomic_write_png(out_path, cv2.cvtColor(hha, cv2.COLOR_RGB2BGR))
    return seconds


def write_hha_folder(data_root: str, dataset: Optional[str] = None,
                     intrinsics: Optional[Sequence[float]] = None, radius: int = 3,
                     nproc: int = 1, overwrite: bool = False) -> dict:
    """Compute ``hha/`` for the converted dataset in ``data_root``; returns a summary
    (frames, mean seconds per frame, where the intrinsics came from)."""
    from cen_mm.utils.progress import track_tasks
    meta_path = osp.join(data_root, 'meta.json')
    meta = _read_json(meta_path, 'conversion summary')
    if meta is None:
        raise ConversionError(f'{data_root} has no meta.json: convert the dataset first '
                              '(tools/dataset_converters/*.py)')
    dataset = dataset or meta.get('dataset')
    try:
        encoding = check_depth_encoding(meta.get('depth_encoding'),
                                        f'{meta_path} depth_encoding')
    except ValueError as err:
        raise ConversionError(str(err)) from None
    if encoding['type'] == 'linear' and encoding['scale'] >= 1 / 255 - 1e-12:
        raise ConversionError(f'{meta_path}: depth is 8-bit relative depth (scale '
                              f"{encoding['scale']}), not metres: HHA needs metric depth")
    if intrinsics is not None and len(intrinsics) != 4:
        raise ConversionError('--intrinsics needs 4 numbers: fx fy cx cy')
    camera = _read_json(osp.join(data_root, 'camera.json'), 'camera file') or {}
    final = osp.join(data_root, 'hha')
    if osp.lexists(final) and not overwrite:
        raise ConversionError(f'{final} already exists; pass --overwrite to recompute it')
    partial = osp.join(data_root, PARTIAL)
    job = dict(dataset=dataset, intrinsics=list(intrinsics) if intrinsics else None,
               radius=radius, depth_encoding=encoding)
    job_path = osp.join(partial, '.job.json')
    if osp.isdir(partial) and _read_json(job_path, 'job file') != json.loads(
            json.dumps(job)):
        shutil.rmtree(partial)
    elif osp.isdir(partial):
        remove_temporaries(partial)
    for split in SPLITS:
        os.makedirs(osp.join(partial, split), exist_ok=True)
    atomic_write_json(job_path, job)

    tasks, total = [], 0
    for split in SPLITS:
        for name in _names(data_root, split):
            total += 1
            out_path = osp.join(partial, split, name + '.png')
            if osp.isfile(out_path):
                continue
            recorded = (camera.get(name) or {}).get('intrinsics')
            tasks.append((osp.join(data_root, 'depth', split, name + '.png'), out_path,
                          encoding, dataset, intrinsics, recorded, radius))
    if tasks:
        print(f'HHA: {len(tasks)} of {total} frames to compute in {data_root}')
        # workers end with an error or an interrupt; the partial folder is kept
        seconds = track_tasks(hha_for_file, tasks, nproc)
    else:
        seconds = []
    os.remove(job_path)
    if osp.lexists(final):
        old = osp.join(data_root, f'.hha.old-{os.getpid()}')
        os.rename(final, old)
        os.rename(partial, final)
        shutil.rmtree(old)
    else:
        os.rename(partial, final)
    source = ('--intrinsics' if intrinsics else
              'camera.json' if camera else f'built-in {dataset}')
    info = dict(frames=total, computed=len(tasks), intrinsics=source, radius=radius,
                seconds_per_frame=float(np.mean(seconds)) if len(seconds) else None)
    meta['modalities'] = list(dict.fromkeys(list(meta.get('modalities', [])) + ['hha']))
    meta['hha'] = info
    atomic_write_json(meta_path, meta)
    return info
