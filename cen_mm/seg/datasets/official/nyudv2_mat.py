"""NYUDv2 from the official labeled release ``nyu_depth_v2_labeled.mat``.

Inputs (public files):

* ``nyu_depth_v2_labeled.mat`` (MATLAB v7.3 = HDF5, 2.8 GB): ``images`` (h5py shape
  (N, 3, 640, 480) uint8), ``depths`` (filled) and ``rawDepths`` ((N, 640, 480) float
  metres, raw: 0 = no measurement), ``labels`` ((N, 640, 480) uint16, 0 = unlabelled,
  1..894). HDF5 shows MATLAB's arrays transposed: a sample is read as one slice and
  transposed to (480, 640[, 3]). The file is streamed, one sample at a time.
* the 40-class mapping of Gupta et al. (CVPR 2013): ``classMapping40.mat``
  (``mapClass``, 894 entries with values 1..40) or ``nyuv2_40class_mapping.mat``
  (``mapping``); class ``k`` becomes label ``k - 1``, unlabelled / unmapped 255.
* the official split ``splits.mat``: ``trainNdxs`` (795) and ``testNdxs`` (654),
  1-based indices into the .mat.

Output: the layout of ``RGBDSegDataset`` (``images/``, ``depth/``, ``annotations/`` with
``train/`` and ``test/``, ``train.txt``, ``test.txt``, ``meta.json``); sample names are
the 1-based indices with 6 digits (``000001``), as in the CEN / light-weight RefineNet
release. Depth: uint16 PNG, metres = value / 5000 (0 = hole; beyond 13.1 m clipped).
Restartable and atomic (see ``staging.py``).
"""
import os.path as osp
import re
from typing import Dict, List, Tuple

import cv2
import numpy as np

from ..conversion import (IGNORE_INDEX, NYUDV2_SPEC, SPLITS, ConversionError,
                          _check_paths)
from .matfile import as_index_vector, load_mat
from .staging import Staging, atomic_write_png, source_identity, split_summary

DEPTH_SOURCES = dict(raw='rawDepths', filled='depths')
DEPTH_SCALE = 5000  # stored value per metre (depth_io: linear, scale 1/5000)
MAT_KEYS = ('images', 'labels', 'depths', 'rawDepths')
NUM_RAW_CLASSES = 894


def load_class_mapping(path: str) -> Tuple[np.ndarray, List[str]]:
    """LUT (uint8, index = 894-class id 0..894) -> 0..39 / 255, and notes."""
    found = load_mat(path, ('mapClass', 'mapping', 'className'), '40-class mapping')
    key = 'mapClass' if 'mapClass' in found else 'mapping'
    if key not in found:
        raise ConversionError(f'40-class mapping file {path} has no mapClass or mapping '
                              'variable')
    mapping = np.asarray(as_index_vector(found[key], path, key))
    if len(mapping) < NUM_RAW_CLASSES:
        raise ConversionError(f'{path}: {key} has {len(mapping)} entries, expected one '
                              f'per NYUDv2 class ({NUM_RAW_CLASSES})')
    num = len(NYUDV2_SPEC.classes)
    if mapping.min() < 0 or mapping.max() > num:
        raise ConversionError(f'{path}: {key} values must be 0..{num} (40-class ids, 0 '
                              f'= unmapped), got {mapping.min()}..{mapping.max()}')
    lut = np.full(len(mapping) + 1, IGNORE_INDEX, np.uint8)
    lut[1:] = np.where(mapping > 0, mapping - 1, IGNORE_INDEX)
    notes = []
    names = found.get('className')
    if isinstance(names, list) and len(names) == num:
        norm = lambda s: re.sub(r'[\s_]+', ' ', s.strip().lower())  # noqa: E731
        differ = [(a, b) for a, b in zip(names, NYUDV2_SPEC.classes)
                  if norm(a) != norm(b)]
        if differ:
            notes.append(f'WARNING: class names in {path} differ from ours, e.g. '
                         f'{differ[0][0]!r} vs {differ[0][1]!r}: check the mapping')
    return lut, notes


def load_splits(path: str, num_images: int) -> Dict[str, List[int]]:
    """Official split: 1-based indices per split, validated against ``num_images``."""
    found = load_mat(path, ('trainNdxs', 'testNdxs'), 'split')
    splits = {}
    for split, key in (('train', 'trainNdxs'), ('test', 'testNdxs')):
        if key not in found:
            raise ConversionError(f'split file {path} has no {key} variable')
        idx = as_index_vector(found[key], path, key)
        bad = [i for i in idx if not 1 <= i <= num_images]
        if bad:
            raise ConversionError(f'{path}: {key} has indices {bad[:5]} outside '
                                  f'1..{num_images} (the images in the .mat; 1-based)')
        if len(set(idx)) != len(idx):
            raise ConversionError(f'{path}: {key} lists an index twice')
        splits[split] = idx
    both = set(splits['train']) & set(splits['test'])
    if both:
        raise ConversionError(f'{path}: index {min(both)} is in both trainNdxs and '
                              'testNdxs')
    return splits


class NYUDv2LabeledMat:
    """Sample-wise reader of ``nyu_depth_v2_labeled.mat`` (h5py, nothing loaded whole).

    ``read(i)`` (1-based) -> RGB (480, 640, 3) uint8, depth (480, 640) float32 metres,
    labels (480, 640) int (0..894).
    """

    def __init__(self, path: str, depth: str = 'raw'):
        import h5py
        if depth not in DEPTH_SOURCES:
            raise ConversionError(f'depth must be one of {list(DEPTH_SOURCES)}, got '
                                  f'{depth!r}')
        if not osp.isfile(path):
            raise ConversionError(f'NYUDv2 file {path} not found')
        self.path = path
        self.depth_key = DEPTH_SOURCES[depth]
        try:
            # a large chunk cache: MATLAB may chunk several images together
            self.file = h5py.File(path, 'r', rdcc_nbytes=256 * 2**20)
        except OSError as err:
            raise ConversionError(
                f'{path} is not an HDF5 (MATLAB v7.3) file: {err}; expected the official '
                'nyu_depth_v2_labeled.mat') from None
        try:
            self._check()
        except BaseException:
            self.file.close()
            raise

    def _check(self) -> None:
        missing = [k for k in ('images', 'labels', self.depth_key) if k not in self.file]
        if missing:
            raise ConversionError(f'{self.path} has no {missing} dataset(s); found '
                                  f'{sorted(self.file.keys())}; expected the official '
                                  'nyu_depth_v2_labeled.mat')
        images = self.file['images']
        if images.ndim != 4 or images.shape[1] != 3:
            raise ConversionError(f'{self.path}: images has shape {images.shape}, '
                                  'expected (N, 3, W, H) as h5py shows MATLAB H×W×3×N')
        self.num_images, _, self.width, self.height = images.shape
        for key in ('labels', self.depth_key):
            shape = self.file[key].shape
            if shape != (self.num_images, self.width, self.height):
                raise ConversionError(
                    f'{self.path}: {key} has shape {shape}, expected '
                    f'{(self.num_images, self.width, self.height)} (as images)')

    def read(self, index: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        i = index - 1
        rgb = np.ascontiguousarray(self.file['images'][i].transpose(2, 1, 0))
        depth = np.ascontiguousarray(self.file[self.depth_key][i].T).astype(np.float32)
        labels = np.ascontiguousarray(self.file['labels'][i].T)
        return rgb, depth, labels

    def close(self) -> None:
        self.file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def encode_depth(metres: np.ndarray) -> Tuple[np.ndarray, int]:
    """float metres -> uint16 (value / 5000 = metres, 0 = hole), number clipped."""
    m = np.nan_to_num(np.asarray(metres, np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    m = np.maximum(m, 0)
    value = np.rint(m * DEPTH_SCALE)
    clipped = int(np.count_nonzero(value > 65535))
    return np.minimum(value, 65535).astype(np.uint16), clipped


def _convert_sample(reader: NYUDv2LabeledMat, lut: np.ndarray, staging: Staging,
                    split: str, index: int) -> dict:
    name = f'{index:06d}'
    rgb, depth, labels = reader.read(index)
    if labels.max(initial=0) >= len(lut):
        raise ConversionError(f'{reader.path}: image {index} has label '
                              f'{int(labels.max())}, beyond the {len(lut) - 1} classes '
                              'of the mapping')
    label = lut[labels]
    depth16, clipped = encode_depth(depth)
    atomic_write_png(staging.path('images', split, name),
                     cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    atomic_write_png(staging.path('depth', split, name), depth16)
    atomic_write_png(staging.path('annotations', split, name), label)
    stats = dict(name=name, split=split, size=[rgb.shape[1], rgb.shape[0]],
                 hole_fraction=float(np.mean(depth16 == 0)), clipped=clipped,
                 label_counts=np.bincount(label.ravel(), minlength=256).tolist())
    staging.mark_done(split, name, stats)
    return stats


def convert_nyudv2_mat(mat: str, mapping: str, splits: str, out: str,
                       depth: str = 'raw', overwrite: bool = False) -> dict:
    """Convert the official NYUDv2 files into ``out``; returns the summary (meta.json).

    An interrupted run leaves ``.OUT.partial`` next to OUT; the same call resumes it.
    """
    from mmengine.utils import track_iter_progress
    for path, what in ((mat, 'NYUDv2 labeled .mat'), (mapping, '40-class mapping'),
                       (splits, 'split')):
        if not osp.isfile(path):
            raise ConversionError(f'{what} file {path} not found')
    _check_paths(osp.dirname(osp.abspath(mat)), out, overwrite)
    lut, notes = load_class_mapping(mapping)
    job = dict(converter='nyudv2_mat', version=1, depth=depth,
               sources=source_identity(mat, mapping, splits))
    with NYUDv2LabeledMat(mat, depth) as reader:
        split_idx = load_splits(splits, reader.num_images)
        staging = Staging(out, job, ('images', 'depth', 'annotations'), overwrite)
        if staging.resumed:
            print(f'resuming the partial conversion in {staging.root}')
        stats: Dict[str, Dict[int, dict]] = {s: {} for s in SPLITS}
        todo = []
        for split in SPLITS:
            for index in split_idx[split]:
                done = staging.done(split, f'{index:06d}')
                if done is None:
                    todo.append((split, index))
                else:
                    stats[split][index] = done
        if todo:
            todo.sort(key=lambda t: t[1])  # file order: sequential reads
            print(f'NYUDv2: converting {len(todo)} images from {mat}')
            for split, index in track_iter_progress(todo):
                stats[split][index] = _convert_sample(reader, lut, staging, split,
                                                      index)
    summary = _summary(mat, mapping, splits, out, depth, split_idx, stats, notes)
    staging.finish({s: [f'{i:06d}' for i in split_idx[s]] for s in SPLITS}, summary)
    return summary


def _summary(mat, mapping, splits, out, depth, split_idx, stats, notes) -> dict:
    spec = NYUDV2_SPEC
    notes = list(notes)
    split_info = {}
    for split in SPLITS:
        items = [stats[split][i] for i in split_idx[split]]
        count, official = len(items), spec.official_counts[split]
        split_info[split] = dict(count=count, official_count=official,
                                 full=count == official, list=osp.abspath(splits),
                                 **split_summary(items))
        if count != official:
            notes.append(f'{split}: {count} images, the official split has {official}')
        clipped = sum(s['clipped'] for s in items)
        if clipped:
            notes.append(f'{split}: {clipped} depth pixels beyond 13.1 m clipped')
    return dict(dataset=spec.name, display_name=spec.display_name,
                classes=list(spec.classes), ignore_index=IGNORE_INDEX,
                source=osp.abspath(mat), layout='nyudv2_mat',
                layout_description='official labeled .mat, 40 classes of Gupta et al. '
                f'({osp.basename(mapping)}), {depth} depth',
                out=osp.abspath(out), modalities=['rgb', 'depth'],
                depth_encoding=dict(type='linear', scale=1 / DEPTH_SCALE),
                depth_source=depth, mapping=osp.abspath(mapping), splits=split_info,
                notes=notes, complete=True)
