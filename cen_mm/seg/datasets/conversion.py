"""Convert NYUDv2 / SUN RGB-D downloads into the layout of ``RGBDSegDataset``.

The command lines are ``tools/dataset_converters/nyud.py`` and ``sunrgbd.py``
(:func:`convert`, :func:`format_summary`). Accepted source layouts:

``cen`` — the official CEN / light-weight RefineNet NYUDv2 release::

    SRC/rgb/NAME.png  SRC/depth/NAME.png (uint16, metres = value / 5000)
    SRC/masks/NAME.png (uint8, 0..39, 255 = unlabelled)
    lists: lines ``rgb/NAME.png<TAB>masks/NAME.png<TAB>depth/NAME.png``; by default
    SRC/train.txt + SRC/val.txt (or test.txt), else SRC/meta/cen_train_full.txt +
    cen_val_full.txt. RGB/depth larger than the mask by a thin border are centre-cropped
    to the mask, as the official code does (``CropAlignToMask``).

``cmx`` — the CMX / DFormer releases (NYUDv2 and SUN RGB-D)::

    SRC/RGB/NAME.jpg  SRC/Depth/NAME.png and/or SRC/HHA/NAME.(jpg|png)
    SRC/Label/NAME.png or SRC/labels/NAME.png (uint8, 0 = unlabelled, 1..K = classes)
    SRC/train.txt, SRC/test.txt: one sample per line, ``NAME`` or ``RGB/NAME.jpg``

Output (see ``rgbd_dataset.py``): ``images/``, ``depth/``, ``hha/``, ``annotations/``
(each with ``train/`` and ``test/``), ``train.txt``, ``test.txt`` and ``meta.json``;
labels 0..K-1 with 255 = ignore. Everything is written into a hidden temporary directory
next to OUT that is renamed to OUT only when complete; on any error it is removed, so a
directory named OUT is always a complete conversion.
"""
import glob
import json
import os
import os.path as osp
import shutil
import sys
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from .metainfo import IGNORE_INDEX, NYUDV2_CLASSES, SUNRGBD_CLASSES

SPLITS = ('train', 'test')
CEN_BORDER_MAX = 16  # max crop per side when aligning CEN inputs to the mask
IMAGE_EXTS = ('.png', '.jpg', '.jpeg')


class ConversionError(Exception):
    """A problem with the source data; the message names the offending file."""


@dataclass(frozen=True)
class DatasetSpec:
    """What a converter knows about one dataset."""
    name: str  # meta.json 'dataset', matches RGBDSegDataset.DATASET_NAME
    display_name: str
    classes: Tuple[str, ...]
    official_counts: Dict[str, int]
    layouts: Tuple[str, ...]
    uint16_encoding: dict  # what uint16 depth means when --depth-encoding is auto
    # range of the dataset-wide median depth (metres) that real data falls in
    plausible_median_m: Tuple[float, float] = (1.0, 6.0)


NYUDV2_SPEC = DatasetSpec('nyudv2', 'NYUDv2', NYUDV2_CLASSES,
                          dict(train=795, test=654), ('cen', 'cmx'),
                          dict(type='linear', scale=1 / 5000))
SUNRGBD_SPEC = DatasetSpec('sunrgbd', 'SUN RGB-D', SUNRGBD_CLASSES,
                           dict(train=5285, test=5050), ('cmx', ),
                           dict(type='sunrgbd'))


@dataclass
class Sample:
    name: str
    rgb: str
    label: str
    depth: Optional[str] = None
    hha: Optional[str] = None


@dataclass
class SourceScan:
    """Result of reading a source layout: the samples per split and how to read them."""
    layout: str
    description: str
    splits: Dict[str, List[Sample]]
    lists: Dict[str, str]
    label_offset: int  # 0: stored ids are ours; 1: 0 = unlabelled, k -> k-1
    allow_border_crop: bool
    official_names: Dict[str, Optional[set]] = field(default_factory=dict)
    notes: List[str] = field(default_factory=list)


# ---------------------------------------------------------------------------------------
# Reading the source layouts
# ---------------------------------------------------------------------------------------
def _read_list(path: str) -> List[Tuple[int, str]]:
    if not osp.isfile(path):
        raise ConversionError(f'split list {path} not found')
    with open(path) as f:
        lines = [(i + 1, line.rstrip('\r\n')) for i, line in enumerate(f)]
    entries = [(n, line) for n, line in lines if line.strip()]
    if not entries:
        raise ConversionError(f'split list {path} is empty: no samples to convert')
    return entries


def _first_existing(*paths: str) -> Optional[str]:
    return next((p for p in paths if osp.exists(p)), None)


def detect_layout(src: str, spec: DatasetSpec) -> str:
    """'cen' or 'cmx' from the folders in ``src``; ConversionError otherwise."""
    if not osp.isdir(src):
        raise ConversionError(f'source {src} is not a directory')
    has = {d for d in os.listdir(src) if osp.isdir(osp.join(src, d))}
    if 'cen' in spec.layouts and {'rgb', 'masks'} <= has:
        return 'cen'
    if 'RGB' in has and has & {'Label', 'labels'}:
        return 'cmx'
    expected = []
    if 'cen' in spec.layouts:
        expected.append('rgb/, masks/, depth/ (CEN / light-weight RefineNet release)')
    expected.append('RGB/, Label/ or labels/, Depth/ or HHA/ (CMX / DFormer release)')
    raise ConversionError(
        f'cannot recognise the {spec.display_name} layout in {src}: found folders '
        f'{sorted(has)}, expected ' + ' or '.join(expected))


def _cen_official_names(src: str) -> Dict[str, Optional[set]]:
    names = {}
    for split, fname in (('train', 'cen_train_full.txt'), ('test', 'cen_val_full.txt')):
        path = osp.join(src, 'meta', fname)
        names[split] = ({_cen_name(line.split('\t')[0]) for _, line in _read_list(path)}
                        if osp.isfile(path) else None)
    return names


def _cen_name(rel_path: str) -> str:
    return osp.splitext(osp.basename(rel_path.strip()))[0]


def scan_cen(src: str, lists: Dict[str, Optional[str]]) -> SourceScan:
    """Samples of the CEN / light-weight RefineNet NYUDv2 release."""
    chosen = {}
    for split, candidates in (('train', ['train.txt', 'meta/cen_train_full.txt']),
                              ('test', ['val.txt', 'test.txt',
                                        'meta/cen_val_full.txt'])):
        path = lists.get(split) or _first_existing(
            *[osp.join(src, c) for c in candidates])
        if path is None:
            raise ConversionError(
                f'no {split} split list in {src}: expected one of {candidates} '
                f'(or pass --{split}-list)')
        chosen[split] = path
    splits = {}
    for split, path in chosen.items():
        samples = []
        for lineno, line in _read_list(path):
            cols = [c.strip() for c in line.split('\t')]
            if len(cols) < 3 or not cols[2]:
                raise ConversionError(
                    f'{path} line {lineno}: expected "rgb/X.png<TAB>masks/X.png<TAB>'
                    f'depth/X.png", got {line!r} (no depth file named)')
            samples.append(Sample(name=_cen_name(cols[0]), rgb=osp.join(src, cols[0]),
                                  label=osp.join(src, cols[1]),
                                  depth=osp.join(src, cols[2])))
        splits[split] = samples
    return SourceScan('cen', 'CEN / light-weight RefineNet release', splits, chosen,
                      label_offset=0, allow_border_crop=True,
                      official_names=_cen_official_names(src))


def _find_file(folder: str, name: str, exts: Sequence[str]) -> str:
    for ext in exts:
        path = osp.join(folder, name + ext)
        if osp.exists(path):
            return path
    # Not found: a path that names the alternatives, reported as missing later.
    return osp.join(folder, name + '{' + ','.join(exts) + '}')


def _cmx_name(line: str) -> str:
    """``NAME``, ``NAME.jpg`` or ``RGB/NAME.jpg`` (first token of the line) -> NAME."""
    name = osp.basename(line.split()[0])
    stem, ext = osp.splitext(name)
    return stem if ext.lower() in IMAGE_EXTS else name


def scan_cmx(src: str, lists: Dict[str, Optional[str]]) -> SourceScan:
    """Samples of the CMX / DFormer layout (NYUDv2 or SUN RGB-D)."""
    label_dir = _first_existing(osp.join(src, 'Label'), osp.join(src, 'labels'))
    depth_dir = _first_existing(osp.join(src, 'Depth'))
    hha_dir = _first_existing(osp.join(src, 'HHA'))
    if label_dir is None:
        raise ConversionError(f'{src}: no Label/ or labels/ folder')
    if depth_dir is None and hha_dir is None:
        raise ConversionError(
            f'{src}: no Depth/ or HHA/ folder: nothing to pair with RGB')
    chosen, splits = {}, {}
    for split in SPLITS:
        path = lists.get(split) or osp.join(src, f'{split}.txt')
        chosen[split] = path
        samples = []
        for _, line in _read_list(path):
            name = _cmx_name(line)
            samples.append(Sample(
                name=name,
                rgb=_find_file(osp.join(src, 'RGB'), name, ('.jpg', '.png', '.jpeg')),
                label=_find_file(label_dir, name, ('.png', )),
                depth=_find_file(depth_dir, name, ('.png', '.jpg'))
                if depth_dir else None,
                hha=_find_file(hha_dir, name, ('.jpg', '.png')) if hha_dir else None))
        splits[split] = samples
    return SourceScan('cmx', 'CMX / DFormer release', splits, chosen, label_offset=1,
                      allow_border_crop=False,
                      official_names={s: None for s in SPLITS})


# ---------------------------------------------------------------------------------------
# Converting one sample (runs in worker processes)
# ---------------------------------------------------------------------------------------
def _read(path: str, flag: int, what: str) -> np.ndarray:
    if not osp.isfile(path):
        raise ConversionError(f'missing {what} file {path}')
    array = cv2.imread(path, flag)
    if array is None:
        raise ConversionError(f'unreadable {what} file {path}: not a decodable image')
    return array


def _read_depth(path: str) -> Tuple[np.ndarray, bool]:
    """(H, W) uint8/uint16 depth, and whether it had to be reduced to one channel."""
    raw = _read(path, cv2.IMREAD_UNCHANGED, 'depth')
    if raw.ndim == 3:
        if raw.shape[2] >= 3 and all(np.array_equal(raw[..., 0], raw[..., c])
                                     for c in (1, 2)):
            return _check_depth_dtype(raw[..., 0], path), True  # grey stored as colour
        else:
            raise ConversionError(f'depth file {path} has {raw.shape[2]} different '
                                  'channels; expected a single-channel depth map')
    return _check_depth_dtype(raw, path), False


def _check_depth_dtype(raw: np.ndarray, path: str) -> np.ndarray:
    if raw.dtype not in (np.uint8, np.uint16):
        raise ConversionError(f'depth file {path} has dtype {raw.dtype}; expected '
                              'uint16 (or 8-bit relative depth)')
    return raw


def _align(array: np.ndarray, ref_hw: Tuple[int, int], path: str, what: str,
           label_path: str, allow_border_crop: bool) -> Tuple[np.ndarray, bool]:
    """Return ``array`` with the label's size (centre border crop if allowed)."""
    h, w = array.shape[:2]
    rh, rw = ref_hw
    if (h, w) == (rh, rw):
        return array, False
    dh, dw = h - rh, w - rw
    if (allow_border_crop and 0 <= dh <= 2 * CEN_BORDER_MAX
            and 0 <= dw <= 2 * CEN_BORDER_MAX):
        top, left = dh // 2, dw // 2
        return array[top:top + rh, left:left + rw], True
    raise ConversionError(f'size mismatch: {what} file {path} is {w}x{h} (WxH) but the '
                          f'label {label_path} is {rw}x{rh}')


def _write_png(path: str, array: np.ndarray) -> None:
    if not cv2.imwrite(path, array):
        raise ConversionError(f'could not write {path}')


def convert_sample(task: tuple) -> dict:
    """Validate one sample and write it below ``tmp_root``; returns its statistics."""
    sample, split, tmp_root, num_classes, label_offset, allow_crop = task
    label = _read(sample.label, cv2.IMREAD_UNCHANGED, 'label')
    if label.ndim != 2 or label.dtype != np.uint8:
        raise ConversionError(
            f'label file {sample.label} must be a single-channel 8-bit map of class ids, '
            f'got shape {label.shape} dtype {label.dtype}')
    counts = np.bincount(label.ravel(), minlength=256)
    if label_offset == 0:
        allowed = list(range(num_classes)) + [IGNORE_INDEX]
        expected = f'0..{num_classes - 1} or {IGNORE_INDEX}'
    else:
        allowed = list(range(num_classes + 1))
        expected = f'0 (unlabelled) or 1..{num_classes}'
    bad = np.setdiff1d(np.flatnonzero(counts), allowed)
    if bad.size:
        raise ConversionError(f'label file {sample.label} has values {bad.tolist()[:10]} '
                              f'outside the {num_classes} classes (expected {expected})')
    if label_offset:
        lut = np.full(256, IGNORE_INDEX, np.uint8)
        lut[1:num_classes + 1] = np.arange(num_classes, dtype=np.uint8)
        label = lut[label]
        counts = np.bincount(label.ravel(), minlength=256)
    ref = label.shape

    rgb = _read(sample.rgb, cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION, 'RGB')
    rgb, cropped = _align(rgb, ref, sample.rgb, 'RGB', sample.label, allow_crop)
    stats = dict(name=sample.name, split=split, size=(ref[1], ref[0]),
                 cropped=cropped, label_counts=counts, depth_dtype=None)
    # (folder, array to write, source file, whether the array differs from the file)
    outputs = [('images', rgb, sample.rgb, cropped)]
    if sample.depth is not None:
        depth, collapsed = _read_depth(sample.depth)
        depth, crop_d = _align(depth, ref, sample.depth, 'depth', sample.label,
                               allow_crop)
        valid = depth[depth > 0]
        stats.update(cropped=cropped or crop_d, depth_dtype=str(depth.dtype),
                     hole_fraction=float(1 - valid.size / depth.size),
                     # 'lower': an actual stored value (averages of two are not
                     # valid in the bit-rotated SUN RGB-D encoding)
                     depth_median_raw=int(np.percentile(valid, 50, method='lower'))
                     if valid.size else None,
                     depth_low3_zero=float(np.mean((valid & 7) == 0))
                     if valid.size else None)
        outputs.append(('depth', depth, sample.depth, crop_d or collapsed))
    if sample.hha is not None:
        hha = _read(sample.hha, cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION, 'HHA')
        hha, crop_h = _align(hha, ref, sample.hha, 'HHA', sample.label, allow_crop)
        stats['cropped'] = stats['cropped'] or crop_h
        outputs.append(('hha', hha, sample.hha, crop_h))
    outputs.append(('annotations', label, sample.label, bool(label_offset)))

    for folder, array, src_path, modified in outputs:
        dst = osp.join(tmp_root, folder, split, sample.name + '.png')
        if not modified and src_path.lower().endswith('.png'):
            shutil.copyfile(src_path, dst)  # already a valid PNG of the right content
        else:
            _write_png(dst, array)
    return stats


# ---------------------------------------------------------------------------------------
# Depth encoding, official split bookkeeping, summary
# ---------------------------------------------------------------------------------------
def resolve_depth_encoding(stats: List[dict], spec: DatasetSpec, requested: str,
                           scale: Optional[float], notes: List[str]) -> Optional[dict]:
    with_depth = [s for s in stats if s['depth_dtype'] is not None]
    if not with_depth:
        return None
    dtypes = {s['depth_dtype'] for s in with_depth}
    if len(dtypes) > 1:
        first = with_depth[0]['depth_dtype']
        odd = next(s for s in with_depth if s['depth_dtype'] != first)
        raise ConversionError(
            f"depth maps mix {sorted(dtypes)}: sample '{odd['name']}' ({odd['split']}) "
            f"is {odd['depth_dtype']} while '{with_depth[0]['name']}' is {first}")
    dtype = dtypes.pop()
    if requested == 'linear':
        if scale is None:
            raise ConversionError('--depth-encoding linear needs --depth-scale '
                                  '(metres per stored unit)')
        return dict(type='linear', scale=scale)
    if requested == 'sunrgbd':
        if dtype != 'uint16':
            raise ConversionError('--depth-encoding sunrgbd needs uint16 depth maps, '
                                  f'these are {dtype}')
        return dict(type='sunrgbd')
    if dtype == 'uint8':
        notes.append('depth maps are 8-bit: stored as relative depth (value / 255, not '
                     'metres), as in the CMX/DFormer releases')
        return dict(type='linear', scale=1 / 255)
    encoding = dict(spec.uint16_encoding)
    low3 = [s['depth_low3_zero'] for s in with_depth if s['depth_low3_zero'] is not None]
    if encoding['type'] == 'sunrgbd' and low3 and np.mean(low3) < 0.9:
        # The SUN RGB-D toolbox encoding stores millimetres << 3 (low 3 bits 0 below
        # 8.19 m); plain millimetres have random low bits.
        encoding = dict(type='linear', scale=1 / 1000)
        notes.append('uint16 depth is not in the SUN RGB-D toolbox encoding (low 3 bits '
                     'are not zero): read as millimetres')
    medians = [s['depth_median_raw'] for s in with_depth
               if s['depth_median_raw'] is not None]
    if medians:
        check_median_depth(medians, encoding, spec, explicit=requested != 'auto',
                           notes=notes)
    return encoding


def check_median_depth(medians_raw: List[int], encoding: dict, spec: DatasetSpec,
                       explicit: bool, notes: List[str]) -> None:
    """Plausibility of the decoded depth: the median (over samples) of the per-sample
    median must fall in ``spec.plausible_median_m``. Outside it, an automatically
    chosen encoding is an error (e.g. NYUDv2 saved in millimetres read at 1/5000 gives
    ~0.5 m) and an explicit one (``--depth-encoding``/``--depth-scale``) a warning."""
    from .depth_io import decode_depth
    metres = float(np.median(decode_depth(np.array([medians_raw], np.uint16),
                                          encoding)))
    low, high = spec.plausible_median_m
    if low <= metres <= high:
        return
    raw_median = int(np.median(medians_raw))
    as_mm = raw_median / 1000
    hint = (' They look like millimetres: pass --depth-encoding linear --depth-scale '
            '0.001.' if encoding['type'] == 'linear' and low <= as_mm <= high else
            ' Pass --depth-encoding linear --depth-scale S (metres per stored unit).')
    text = (f'the median depth decodes to {metres:.2f} m with {encoding} (median '
            f'stored value {raw_median}), but {spec.display_name} depth has a '
            f'median of {low:g}-{high:g} m: the depth files are probably in another '
            f'unit.{hint}')
    if explicit:
        notes.append(f'WARNING: {text}')
        return
    raise ConversionError(text)


def _official_notes(spec: DatasetSpec, scan: SourceScan, counts: Dict[str, int],
                    notes: List[str]) -> Dict[str, dict]:
    info = {}
    for split in SPLITS:
        official = spec.official_counts[split]
        names = {s.name for s in scan.splits[split]}
        ref = scan.official_names.get(split)
        outside = sorted(names - ref) if ref is not None else []
        full = counts[split] == official and not outside
        info[split] = dict(count=counts[split], official_count=official, full=full,
                           list=scan.lists[split])
        if not full:
            notes.append(f'{split}: {counts[split]} of the {official} samples of the '
                         f'official split (subset, as named by {scan.lists[split]})')
        if outside:
            other = 'test' if split == 'train' else 'train'
            notes.append(f'{split}: {len(outside)} sample(s) are not in the official '
                         f'{split} split (e.g. {outside[0]}; official {other}?)')
    overlap = ({s.name for s in scan.splits['train']}
               & {s.name for s in scan.splits['test']})
    if overlap:
        notes.append(f'WARNING: {len(overlap)} sample(s) are in both train and test '
                     f'(e.g. {sorted(overlap)[0]})')
    return info


def format_summary(summary: dict) -> str:
    """A plain-text table of a conversion summary."""
    header = ('split', 'samples', 'official', 'sizes (WxH)', 'border-cropped',
              'depth holes', 'ignored px')
    rows = []
    for split in SPLITS:
        s = summary['splits'][split]
        rows.append((split, str(s['count']), str(s['official_count']), s['sizes'],
                     str(s['cropped']), s['hole_fraction'], s['ignored_fraction']))
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(len(header))]
    line = '  '.join('-' * w for w in widths)
    fmt = lambda r: '  '.join(c.ljust(w) for c, w in zip(r, widths))  # noqa: E731
    text = [f"{summary['display_name']} -> {summary['out']}",
            f"source: {summary['source']} ({summary['layout_description']})",
            line, fmt(header), line] + [fmt(r) for r in rows] + [line]
    text.append(f"modalities: {', '.join(summary['modalities'])}; depth encoding: "
                f"{summary['depth_encoding']}")
    text += [f'note: {n}' for n in summary['notes']]
    return '\n'.join(text)


def _split_summary(stats: List[dict]) -> dict:
    sizes = sorted({s['size'] for s in stats})
    size_text = ', '.join(f'{w}x{h}' for w, h in sizes[:3]) + (
        f' (+{len(sizes) - 3})' if len(sizes) > 3 else '')
    counts = sum(s['label_counts'] for s in stats)
    holes = [s['hole_fraction'] for s in stats if s.get('hole_fraction') is not None]
    return dict(sizes=size_text, cropped=sum(s['cropped'] for s in stats),
                hole_fraction=f'{100 * np.mean(holes):.1f}%' if holes else '-',
                ignored_fraction=f'{100 * counts[IGNORE_INDEX] / counts.sum():.1f}%')


# ---------------------------------------------------------------------------------------
# The conversion
# ---------------------------------------------------------------------------------------
def _check_paths(src: str, out: str, overwrite: bool) -> None:
    src_r, out_r = osp.realpath(src), osp.realpath(out)
    if out_r == src_r or src_r.startswith(out_r + os.sep):
        raise ConversionError(f'output {out} would contain or replace the source {src}')
    if osp.lexists(out) and not overwrite:
        raise ConversionError(f'output {out} already exists; pass --overwrite to replace '
                              'it')
    if osp.lexists(out) and not osp.isdir(out):
        raise ConversionError(f'output {out} exists and is not a directory')


def _run(tasks: List[tuple], nproc: int, desc: str) -> List[dict]:
    """``convert_sample`` over ``tasks`` (``--nproc`` workers), progress on stderr.
    Errors, Ctrl-C and SIGTERM (the command lines turn it into ``SystemExit``) end
    the workers too: ``track_tasks``."""
    from cen_mm.utils.progress import track_tasks
    print(f'{desc}: {len(tasks)} images', file=sys.stderr)
    return track_tasks(convert_sample, tasks, nproc, chunksize=4, file=sys.stderr)


def _clean_stale_outputs(out: str) -> None:
    """Remove what converters killed earlier (SIGTERM/SIGKILL) left next to ``out``:
    ``.OUT.incomplete-PID`` folders; an ``.OUT.old-PID`` backup is put back as ``out``
    if the kill came between the two renames of an ``--overwrite``, else removed."""
    from cen_mm.engine.runner.atomic_save import pid_alive
    parent, base = osp.dirname(out), osp.basename(out)
    for kind in ('old', 'incomplete'):
        for path in sorted(glob.glob(osp.join(parent, f'.{glob.escape(base)}.{kind}-*'))):
            pid = path.rsplit('-', 1)[-1]
            if not pid.isdigit() or pid_alive(int(pid)):
                continue
            if kind == 'old' and not osp.lexists(out):
                os.rename(path, out)
                print(f'restored {out} from the backup {path} of an interrupted '
                      '--overwrite', file=sys.stderr)
            else:
                shutil.rmtree(path, ignore_errors=True)


def convert(src: str, out: str, spec: DatasetSpec, layout: str = 'auto',
            train_list: Optional[str] = None, test_list: Optional[str] = None,
            depth_encoding: str = 'auto', depth_scale: Optional[float] = None,
            overwrite: bool = False, nproc: int = 1) -> dict:
    """Convert ``src`` into ``out``; returns the summary (also saved in meta.json)."""
    src, out = osp.abspath(src), osp.abspath(out)
    _clean_stale_outputs(out)
    _check_paths(src, out, overwrite)
    if layout == 'auto':
        layout = detect_layout(src, spec)
    if layout not in spec.layouts:
        raise ConversionError(f'layout {layout!r} is not supported for '
                              f'{spec.display_name} (supported: {spec.layouts})')
    lists = dict(train=train_list, test=test_list)
    scan = scan_cen(src, lists) if layout == 'cen' else scan_cmx(src, lists)
    for split in SPLITS:
        seen = set()
        for sample in scan.splits[split]:
            if sample.name in seen:
                raise ConversionError(f'{scan.lists[split]}: sample {sample.name!r} is '
                                      'listed twice')
            seen.add(sample.name)

    first = scan.splits['train'][0]
    folders = ['images', 'annotations'] + (['depth'] if first.depth else []) + (
        ['hha'] if first.hha else [])
    tmp = osp.join(osp.dirname(out), f'.{osp.basename(out)}.incomplete-{os.getpid()}')
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        os.makedirs(osp.dirname(out), exist_ok=True)
        os.makedirs(tmp)
    except (FileExistsError, NotADirectoryError) as err:
        raise ConversionError(f'cannot create the output {out}: {err.filename} is a '
                              'file, not a folder; choose another output path') from None
    except PermissionError as err:
        raise ConversionError(f'cannot write the output {out}: permission denied for '
                              f'{err.filename}; choose a writable folder') from None
    try:
        for folder in folders:
            for split in SPLITS:
                os.makedirs(osp.join(tmp, folder, split), exist_ok=True)
        stats = {}
        for split in SPLITS:
            tasks = [(s, split, tmp, len(spec.classes), scan.label_offset,
                      scan.allow_border_crop) for s in scan.splits[split]]
            stats[split] = _run(tasks, nproc, f'{spec.display_name} {split}')
            with open(osp.join(tmp, f'{split}.txt'), 'w') as f:
                f.writelines(s.name + '\n' for s in scan.splits[split])
        notes = list(scan.notes)
        encoding = resolve_depth_encoding(stats['train'] + stats['test'], spec,
                                          depth_encoding, depth_scale, notes)
        counts = {split: len(stats[split]) for split in SPLITS}
        split_info = _official_notes(spec, scan, counts, notes)
        for split in SPLITS:
            split_info[split].update(_split_summary(stats[split]))
        summary = dict(dataset=spec.name, display_name=spec.display_name,
                       classes=list(spec.classes), ignore_index=IGNORE_INDEX,
                       source=src, layout=scan.layout,
                       layout_description=scan.description, out=out,
                       modalities=['rgb'] + [f for f in ('depth', 'hha') if f in folders],
                       depth_encoding=encoding, splits=split_info, notes=notes,
                       complete=True)
        with open(osp.join(tmp, 'meta.json'), 'w') as f:
            json.dump(summary, f, indent=2)
        if osp.lexists(out):
            old = osp.join(osp.dirname(out), f'.{osp.basename(out)}.old-{os.getpid()}')
            os.rename(out, old)
            os.rename(tmp, out)
            shutil.rmtree(old)
        else:
            os.rename(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return summary
