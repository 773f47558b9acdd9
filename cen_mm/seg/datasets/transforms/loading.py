"""Load an RGB-D sample into one stacked float image, and its label, with checks.

``LoadRGBDFromFile`` puts every modality into ``results['img']`` (H, W, 3 + Cd) so that
the stock geometric transforms (RandomResize, RandomCrop, RandomFlip) move RGB, depth and
the label together. The split is recorded in ``results['modality_channels']``, e.g.
``(3, 1)`` — the order and channel counts the CEN backbone's ``in_channels`` expects.
"""
import os.path as osp
from typing import Optional

import cv2
import mmengine.fileio as fileio
import numpy as np
from mmcv.transforms import BaseTransform

from mmseg.datasets.transforms import LoadAnnotations
from mmseg.registry import TRANSFORMS
from ..depth_io import (check_depth_encoding, check_hole_handling, decode_depth,
                        fill_depth_holes)

DEPTH_TYPES = ('depth', 'hha')


def sample_name(results: dict) -> str:
    """How errors name a sample: the dataset's ``sample_name`` or the RGB file stem."""
    if results.get('sample_name'):
        return str(results['sample_name'])
    path = results.get('img_path')
    return osp.splitext(osp.basename(path))[0] if path else '<unnamed sample>'


def read_image_file(path: str, flag: int, what: str, results: dict,
                    backend_args: Optional[dict] = None) -> np.ndarray:
    """Read and decode one file of a sample; errors name the sample and the file."""
    try:
        data = fileio.get(path, backend_args=backend_args)
    except FileNotFoundError:
        raise FileNotFoundError(
            f"sample '{sample_name(results)}': {what} file {path} not found") from None
    array = cv2.imdecode(np.frombuffer(data, np.uint8), flag)
    if array is None:
        raise ValueError(f"sample '{sample_name(results)}': {what} file {path} cannot be "
                         'decoded (corrupt or not an image)')
    return array


@TRANSFORMS.register_module()
class LoadRGBDFromFile(BaseTransform):
    """Load RGB + depth (or HHA) and stack them into one float32 image.

    Required keys: ``img_path``, ``depth_path``; ``depth_encoding`` unless given here
    (the RGB-D datasets put it into every sample).

    Added/modified keys:

    - ``img``: float32 (H, W, 3 + Cd). Channels 0..2: RGB in RGB order, values 0..255.
      Then depth in metres (Cd = 1; 0 = hole unless filled) or HHA (Cd = 3, 0..255).
    - ``img_shape``, ``ori_shape``: (H, W).
    - ``modality_channels``: ``(3, Cd)``.

    Args:
        depth_type: ``'depth'`` (single-channel depth PNG, decoded with the depth
            encoding) or ``'hha'`` (3-channel 8-bit HHA image).
        depth_encoding: how stored depth values map to metres (see
            :mod:`cen_mm.seg.datasets.depth_io`), e.g. ``dict(type='linear',
            scale=1/5000)`` for NYUDv2. ``None``: use the sample's ``depth_encoding``.
        hole_mode: ``'keep'`` (holes stay 0) or ``'fill'`` (holes take values from valid
            neighbours, see ``fill_method``). Only for ``depth_type='depth'``.
        fill_method: ``'nearest'`` or ``'inpaint'`` (OpenCV Navier-Stokes).
        backend_args: mmengine file backend arguments.

    RGB, depth (and later the label) must have the same height and width; otherwise a
    ``ValueError`` names the sample and the sizes.
    """

    def __init__(self,
                 depth_type: str = 'depth',
                 depth_encoding: Optional[dict] = None,
                 hole_mode: str = 'keep',
                 fill_method: str = 'nearest',
                 backend_args: Optional[dict] = None):
        if depth_type not in DEPTH_TYPES:
            raise ValueError(
                f'depth_type must be one of {DEPTH_TYPES}, got {depth_type!r}')
        check_hole_handling(hole_mode, fill_method)
        self.depth_type = depth_type
        self.depth_encoding = (None if depth_encoding is None else
                               check_depth_encoding(depth_encoding))
        self.hole_mode = hole_mode
        self.fill_method = fill_method
        self.backend_args = backend_args.copy() if backend_args else None

    def _load_rgb(self, results: dict) -> np.ndarray:
        bgr = read_image_file(results['img_path'],
                              cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION, 'RGB',
                              results, self.backend_args)
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB).astype(np.float32)

    def _load_depth(self, results: dict) -> np.ndarray:
        """(H, W, 1) float32 metres."""
        path = results['depth_path']
        raw = read_image_file(path, cv2.IMREAD_UNCHANGED, 'depth', results,
                              self.backend_args)
        if raw.ndim != 2:
            raise ValueError(
                f"sample '{sample_name(results)}': depth file {path} has "
                f'{raw.shape[2]} channels, expected a single-channel depth map '
                "(is it an HHA image? then use depth_type='hha')")
        encoding = self.depth_encoding or results.get('depth_encoding')
        if encoding is None:
            raise ValueError(
                f"sample '{sample_name(results)}': no depth encoding; pass "
                "LoadRGBDFromFile(depth_encoding=dict(type='linear', scale=...)) or use "
                'a dataset that sets it')
        try:
            depth = decode_depth(raw, encoding)
        except ValueError as err:
            raise ValueError(
                f"sample '{sample_name(results)}': depth file {path}: {err}") from None
        if self.hole_mode == 'fill':
            depth = fill_depth_holes(depth, self.fill_method)
        return depth[..., None]

    def _load_hha(self, results: dict) -> np.ndarray:
        """(H, W, 3) float32 HHA values 0..255 in the file's RGB channel order."""
        path = results['depth_path']
        raw = read_image_file(path, cv2.IMREAD_UNCHANGED, 'HHA', results,
                              self.backend_args)
        if raw.ndim != 3 or raw.shape[2] != 3 or raw.dtype != np.uint8:
            raise ValueError(
                f"sample '{sample_name(results)}': HHA file {path} must be an 8-bit "
                f'3-channel image, got shape {raw.shape} dtype {raw.dtype}')
        return cv2.cvtColor(raw, cv2.COLOR_BGR2RGB).astype(np.float32)

    def transform(self, results: dict) -> dict:
        if 'depth_path' not in results:
            raise KeyError(
                f"sample '{sample_name(results)}' has no 'depth_path': use an RGB-D "
                'dataset (NYUDv2Dataset, SUNRGBDDataset, RGBDSegDataset)')
        rgb = self._load_rgb(results)
        extra = (self._load_depth(results)
                 if self.depth_type == 'depth' else self._load_hha(results))
        if extra.shape[:2] != rgb.shape[:2]:
            raise ValueError(
                f"sample '{sample_name(results)}': RGB {results['img_path']} is "
                f'{rgb.shape[1]}x{rgb.shape[0]} (WxH) but {self.depth_type} '
                f"{results['depth_path']} is {extra.shape[1]}x{extra.shape[0]}")
        results['img'] = np.concatenate([rgb, extra], axis=2)
        results['img_shape'] = rgb.shape[:2]
        results['ori_shape'] = rgb.shape[:2]
        results['modality_channels'] = (3, extra.shape[2])
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(depth_type={self.depth_type!r}, '
                f'depth_encoding={self.depth_encoding}, hole_mode={self.hole_mode!r}, '
                f'fill_method={self.fill_method!r})')


@TRANSFORMS.register_module()
class LoadRGBDAnnotations(LoadAnnotations):
    """mmseg's ``LoadAnnotations`` plus checks that name the sample.

    Before mmseg loads the label (which casts it to uint8), the stored label is checked:
    it must be a single-channel 8-bit map with the size the image had when loaded
    (``ori_shape``, if an image was loaded) and values in ``0..num_classes-1`` or
    ``ignore_index``. ``num_classes`` and ``ignore_index`` come from the sample (set by
    the RGB-D datasets: the classes of the stored label space) unless given here; with
    neither, values are not checked.
    """

    def __init__(self, num_classes: Optional[int] = None,
                 ignore_index: Optional[int] = None, **kwargs):
        super().__init__(**kwargs)
        self.num_classes = num_classes
        self.ignore_index = ignore_index

    def _check_seg_map(self, results: dict) -> None:
        path = results['seg_map_path']
        raw = read_image_file(path, cv2.IMREAD_UNCHANGED, 'label', results,
                              self.backend_args)
        name = sample_name(results)
        if raw.ndim != 2 or raw.dtype != np.uint8:
            raise ValueError(
                f"sample '{name}': label file {path} must be a single-channel 8-bit map "
                f'of class ids, got shape {raw.shape} dtype {raw.dtype}')
        # Compare with the size the image had when loaded: in test-time augmentation
        # the label is loaded after the image was resized.
        loaded = results.get('ori_shape') or (
            results['img'].shape[:2] if 'img' in results else None)
        if loaded is not None and tuple(loaded[:2]) != raw.shape:
            h, w = loaded[:2]
            raise ValueError(f"sample '{name}': label {path} is {raw.shape[1]}x"
                             f'{raw.shape[0]} (WxH) but the image is {w}x{h}')
        num_classes = self.num_classes or results.get('num_classes')
        ignore = self.ignore_index
        if ignore is None:
            ignore = results.get('ignore_index', 255)
        if num_classes:
            counts = np.bincount(raw.ravel(), minlength=256)
            counts[:num_classes] = 0
            counts[ignore] = 0
            if counts.any():
                bad = np.flatnonzero(counts)
                raise ValueError(
                    f"sample '{name}': label {path} has values {bad.tolist()[:10]} "
                    f'outside the {num_classes} classes (0..{num_classes - 1}) and the '
                    f'ignore index {ignore}')

    def _load_seg_map(self, results: dict) -> None:
        self._check_seg_map(results)
        super()._load_seg_map(results)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(num_classes={self.num_classes}, '
                f'ignore_index={self.ignore_index}, '
                f"imdecode_backend='{self.imdecode_backend}')")
