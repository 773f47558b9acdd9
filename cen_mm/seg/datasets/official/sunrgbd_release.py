"""SUN RGB-D from its official release (``SUNRGBD.zip`` + ``SUNRGBDtoolbox.zip``).

Inputs, as unzipped from http://rgbd.cs.princeton.edu/ ::

    ROOT/SUNRGBD/<sensor>/<subset>/.../<frame>/image/*.jpg, depth/*.png,
                 depth_bfx/*.png, intrinsics.txt
    ROOT/SUNRGBDtoolbox/Metadata/SUNRGBDMeta.mat     per image: rgbpath, depthpath
    ROOT/SUNRGBDtoolbox/Metadata/SUNRGBD2Dseg.mat    (v7.3) SUNRGBD2Dseg.seglabel:
                                                     37-class labels, 0 = unlabelled
    ROOT/SUNRGBDtoolbox/traintestSUNRGBD/allsplit.mat  alltrain (5285), alltest (5050)

``SUNRGBDMeta`` and ``SUNRGBD2Dseg`` list the 10335 images in the same order; the
frame folder of image ``i`` is ``rgbpath`` without ``/image/NAME.jpg``, paths start with
the authors' ``/n/fs/sun3d/data/SUNRGBD/``; ``allsplit`` names frame folders the same way.
The 2D-seg file is streamed (one label map at a time).

Output: the layout of ``RGBDSegDataset``; sample names are the 1-based image indices
with 5 digits (``00001``). Depth PNGs are copied unchanged (SUN RGB-D's own uint16
encoding, decoded to metres by the loader; meta.json ``depth_encoding`` says so); labels
0..36 with 255 = unlabelled; ``camera.json`` records each sample's source folder and
its ``intrinsics.txt`` as ``[fx, fy, cx, cy]`` (used by ``depth2hha.py``).
Restartable and atomic (see ``staging.py``).
"""
import os
import os.path as osp
from typing import Dict, List, Optional, Tuple

import cv2
import numpy as np

from ..conversion import (IGNORE_INDEX, SPLITS, SUNRGBD_SPEC, ConversionError,
                          _check_paths)
from .matfile import load_mat
from .staging import (Staging, atomic_write_bytes, atomic_write_png,
                      source_identity, split_summary)

META_FILE = 'Metadata/SUNRGBDMeta.mat'
SEG_FILE = 'Metadata/SUNRGBD2Dseg.mat'
SPLIT_FILE = 'traintestSUNRGBD/allsplit.mat'
DEPTH_FOLDERS = dict(raw='depth', filled='depth_bfx')
RELEASE_PREFIX = '/SUNRGBD/'


def frame_key(path: str) -> str:
    """A frame folder as named in the toolbox -> its path below ``SUNRGBD/``."""
    path = path.replace('\\', '/').strip()
    if RELEASE_PREFIX in path:
        path = path.split(RELEASE_PREFIX, 1)[1]
    elif path.startswith('SUNRGBD/'):
        path = path[len('SUNRGBD/'):]
    return path.strip('/')


def load_meta(path: str) -> List[Tuple[str, str, str]]:
    """(frame key, RGB file name, depth file name) per image of SUNRGBDMeta.mat."""
    if not osp.isfile(path):
        raise ConversionError(f'SUN RGB-D metadata file {path} not found')
    import scipy.io
    try:
        data = scipy.io.loadmat(path, squeeze_me=True, struct_as_record=False,
                                variable_names=['SUNRGBDMeta'])
    except (OSError, ValueError, NotImplementedError) as err:
        raise ConversionError(f'{path} is not a readable MATLAB v5/v7 file: {err}'
                              ) from None
    if 'SUNRGBDMeta' not in data:
        raise ConversionError(f'{path} has no SUNRGBDMeta variable: expected '
                              'SUNRGBDtoolbox/Metadata/SUNRGBDMeta.mat')
    entries = []
    for i, meta in enumerate(np.atleast_1d(data['SUNRGBDMeta'])):
        try:
            rgbpath, depthpath = str(meta.rgbpath), str(meta.depthpath)
        except AttributeError:
            raise ConversionError(f'{path}: SUNRGBDMeta({i + 1}) has no rgbpath / '
                                  'depthpath field') from None
        rgb_dir = osp.dirname(rgbpath.replace('\\', '/'))
        if osp.basename(rgb_dir) != 'image':
            raise ConversionError(f'{path}: SUNRGBDMeta({i + 1}).rgbpath {rgbpath!r} is '
                                  'not FRAME/image/NAME.jpg')
        entries.append((frame_key(osp.dirname(rgb_dir)), osp.basename(rgbpath),
                        osp.basename(depthpath.replace('\\', '/'))))
    return entries


def load_split(path: str) -> Dict[str, List[str]]:
    """Frame keys of the official train (alltrain) and test (alltest) split."""
    found = load_mat(path, ('alltrain', 'alltest'), 'split')
    split = {}
    for name, key in (('train', 'alltrain'), ('test', 'alltest')):
        if not isinstance(found.get(key), list):
            raise ConversionError(f'split file {path} has no {key} cell array of frame '
                                  'folders')
        split[name] = [frame_key(p) for p in found[key]]
    return split


def read_intrinsics(path: str) -> Optional[List[float]]:
    """``intrinsics.txt`` (3×3 K, row-major) -> [fx, fy, cx, cy]; None if absent."""
    if not osp.isfile(path):
        return None
    try:
        k = np.loadtxt(path, dtype=np.float64).reshape(3, 3)
    except ValueError:
        raise ConversionError(f'{path} is not a 3x3 intrinsics matrix') from None
    return [float(k[0, 0]), float(k[1, 1]), float(k[0, 2]), float(k[1, 2])]


def _pick(folder: str, name: str, exts: Tuple[str, ...], what: str) -> str:
    path = osp.join(folder, name)
    if osp.isfile(path):
        return path
    files = sorted(f for f in os.listdir(folder) if f.lower().endswith(exts)) \
        if osp.isdir(folder) else []
    if len(files) == 1:
        return osp.join(folder, files[0])
    raise ConversionError(f'missing {what} file {path} (and no single {"/".join(exts)} '
                          f'file in {folder})')


class SUNRGBD2DSeg:
    """Streamed reader of SUNRGBD2Dseg.mat: ``read(i)`` (1-based) -> (H, W) int labels."""

    def __init__(self, path: str):
        import h5py
        if not osp.isfile(path):
            raise ConversionError(f'SUN RGB-D label file {path} not found')
        self.path = path
        try:
            self.file = h5py.File(path, 'r')
        except OSError as err:
            raise ConversionError(f'{path} is not an HDF5 (MATLAB v7.3) file: {err}'
                                  ) from None
        try:
            refs = self.file['SUNRGBD2Dseg']['seglabel']
        except KeyError:
            self.file.close()
            raise ConversionError(f'{path} has no SUNRGBD2Dseg/seglabel: expected '
                                  'SUNRGBDtoolbox/Metadata/SUNRGBD2Dseg.mat') from None
        self.refs = np.asarray(refs[()]).ravel()
        self.num_images = len(self.refs)

    def read(self, index: int) -> np.ndarray:
        return np.ascontiguousarray(self.file[self.refs[index - 1]][()].T)

    def close(self) -> None:
        self.file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _convert_sample(task: tuple, seg: SUNRGBD2DSeg, staging: Staging,
                    release: str, depth_folder: str) -> dict:
    split, index, (key, rgb_name, depth_name) = task
    name = f'{index:05d}'
    frame = osp.join(release, key)
    if not osp.isdir(frame):
        raise ConversionError(f'frame folder {frame} (image {index} of SUNRGBDMeta) not '
                              'found: is ROOT/SUNRGBD the unzipped SUNRGBD.zip?')
    rgb_path = _pick(osp.join(frame, 'image'), rgb_name, ('.jpg', '.png'), 'RGB')
    depth_path = _pick(osp.join(frame, depth_folder), depth_name, ('.png', ), 'depth')
    rgb = cv2.imread(rgb_path, cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
    if rgb is None:
        raise ConversionError(f'unreadable RGB file {rgb_path}')
    with open(depth_path, 'rb') as f:
        depth_bytes = f.read()
    depth = cv2.imdecode(np.frombuffer(depth_bytes, np.uint8), cv2.IMREAD_UNCHANGED)
    if depth is None or depth.ndim != 2 or depth.dtype != np.uint16:
        raise ConversionError(f'depth file {depth_path} must be a single-channel 16-bit '
                              'PNG (SUN RGB-D encoding)')
    labels = seg.read(index)
    num = len(SUNRGBD_SPEC.classes)
    if labels.min(initial=0) < 0 or labels.max(initial=0) > num:
        raise ConversionError(f'{seg.path}: labels of image {index} ({key}) have values '
                              f'{int(labels.min())}..{int(labels.max())}, expected 0 '
                              f'(unlabelled)..{num}')
    for what, array, path in (('RGB', rgb, rgb_path), ('depth', depth, depth_path)):
        if array.shape[:2] != labels.shape:
            raise ConversionError(
                f'size mismatch: {what} file {path} is {array.shape[1]}x{array.shape[0]} '
                f'(WxH) but its label map (image {index} of {seg.path}) is '
                f'{labels.shape[1]}x{labels.shape[0]}')
    lut = np.full(num + 1, IGNORE_INDEX, np.uint8)
    lut[1:] = np.arange(num, dtype=np.uint8)
    label = lut[labels.astype(np.int64)]
    atomic_write_png(staging.path('images', split, name), rgb)
    atomic_write_bytes(staging.path('depth', split, name), depth_bytes)
    atomic_write_png(staging.path('annotations', split, name), label)
    stats = dict(name=name, split=split, size=[rgb.shape[1], rgb.shape[0]],
                 hole_fraction=float(np.mean(depth == 0)), source=key,
                 intrinsics=read_intrinsics(osp.join(frame, 'intrinsics.txt')),
                 label_counts=np.bincount(label.ravel(), minlength=256).tolist())
    staging.mark_done(split, name, stats)
    return stats


def convert_sunrgbd_release(root: str, out: str, toolbox: Optional[str] = None,
                            depth: str = 'raw', overwrite: bool = False) -> dict:
    """Convert the official SUN RGB-D release below ``root`` into ``out``.

    ``root`` holds ``SUNRGBD/`` (and ``SUNRGBDtoolbox/`` unless ``toolbox`` is given).
    An interrupted run leaves ``.OUT.partial`` next to OUT; the same call resumes it.
    """
    from mmengine.utils import track_iter_progress
    if depth not in DEPTH_FOLDERS:
        raise ConversionError(
            f'depth must be one of {list(DEPTH_FOLDERS)}, got {depth!r}')
    release = osp.join(root, 'SUNRGBD')
    toolbox = toolbox or osp.join(root, 'SUNRGBDtoolbox')
    if not osp.isdir(release):
        raise ConversionError(f'{release} not found: ROOT must hold the unzipped '
                              'SUNRGBD.zip (folder SUNRGBD/)')
    if not osp.isdir(toolbox):
        raise ConversionError(f'{toolbox} not found: unzip SUNRGBDtoolbox.zip into ROOT '
                              'or pass --toolbox')
    meta_path, seg_path, split_path = (osp.join(toolbox, p)
                                       for p in (META_FILE, SEG_FILE, SPLIT_FILE))
    _check_paths(root, out, overwrite)
    entries = load_meta(meta_path)
    split_keys = load_split(split_path)
    notes = []
    by_key = {e[0]: i + 1 for i, e in enumerate(entries)}
    tasks = {}
    for split in SPLITS:
        missing = [k for k in split_keys[split] if k not in by_key]
        if missing:
            notes.append(f'{split}: {len(missing)} frame(s) of {split_path} are not in '
                         f'SUNRGBDMeta (e.g. {missing[0]}); skipped')
        indices = sorted({by_key[k] for k in split_keys[split] if k in by_key})
        tasks[split] = [(split, i, entries[i - 1]) for i in indices]
    both = {t[1] for t in tasks['train']} & {t[1] for t in tasks['test']}
    if both:
        raise ConversionError(f'{split_path}: frame {entries[min(both) - 1][0]} is in '
                              'both alltrain and alltest')
    outside = len(entries) - len(tasks['train']) - len(tasks['test'])
    if outside:
        notes.append(f'{outside} image(s) of SUNRGBDMeta are in neither split; skipped')
    job = dict(converter='sunrgbd_release', version=1, depth=depth,
               release=osp.abspath(release),
               sources=source_identity(meta_path, seg_path, split_path))
    with SUNRGBD2DSeg(seg_path) as seg:
        if seg.num_images != len(entries):
            raise ConversionError(f'{seg_path} has {seg.num_images} label maps but '
                                  f'{meta_path} lists {len(entries)} images')
        staging = Staging(out, job, ('images', 'depth', 'annotations'), overwrite)
        if staging.resumed:
            print(f'resuming the partial conversion in {staging.root}')
        stats: Dict[str, Dict[int, dict]] = {s: {} for s in SPLITS}
        todo = []
        for split in SPLITS:
            for task in tasks[split]:
                done = staging.done(split, f'{task[1]:05d}')
                if done is None:
                    todo.append(task)
                else:
                    stats[split][task[1]] = done
        if todo:
            todo.sort(key=lambda t: t[1])  # file order of SUNRGBD2Dseg
            print(f'SUN RGB-D: converting {len(todo)} images from {release}')
            for task in track_iter_progress(todo):
                stats[task[0]][task[1]] = _convert_sample(task, seg, staging, release,
                                                          DEPTH_FOLDERS[depth])
    summary, camera = _summary(root, out, depth, split_path, tasks, stats, notes)
    staging.finish({s: [f'{t[1]:05d}' for t in tasks[s]] for s in SPLITS}, summary,
                   extra_files={'camera.json': camera})
    return summary


def _summary(root, out, depth, split_path, tasks, stats, notes):
    spec = SUNRGBD_SPEC
    split_info, camera = {}, {}
    for split in SPLITS:
        items = [stats[split][t[1]] for t in tasks[split]]
        count, official = len(items), spec.official_counts[split]
        split_info[split] = dict(count=count, official_count=official,
                                 full=count == official, list=osp.abspath(split_path),
                                 **split_summary(items))
        if count != official:
            notes.append(f'{split}: {count} images, the official split has {official}')
        for s in items:
            camera[s['name']] = dict(source=s['source'], intrinsics=s['intrinsics'])
    no_k = [n for n, c in camera.items() if c['intrinsics'] is None]
    if no_k:
        notes.append(f'{len(no_k)} frame(s) without intrinsics.txt (e.g. {no_k[0]}): '
                     'depth2hha.py uses built-in per-sensor intrinsics for them')
    summary = dict(dataset=spec.name, display_name=spec.display_name,
                   classes=list(spec.classes), ignore_index=IGNORE_INDEX,
                   source=osp.abspath(root), layout='sunrgbd_release',
                   layout_description=f'official release + toolbox, 37 classes, '
                   f'{DEPTH_FOLDERS[depth]}/ depth',
                   out=osp.abspath(out), modalities=['rgb', 'depth'],
                   depth_encoding=dict(type='sunrgbd'), depth_source=depth,
                   splits=split_info, notes=notes, complete=True)
    return summary, camera
