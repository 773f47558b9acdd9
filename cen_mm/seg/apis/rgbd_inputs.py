"""Loading RGB-D (and any M-modality) inputs given as files *or* arrays, for inference.

``RGBDInferencerLoader`` replaces the config's loading step (``LoadRGBDFromFile``)
in the inferencer's pipeline, so the config's resizing and the model's normalisation
apply unchanged. It produces exactly what ``LoadRGBDFromFile`` produces: ``img``
float32 (H, W, sum C_m) = RGB 0..255 (RGB order), then depth in metres (or HHA 0..255),
``modality_channels``, ``img_shape``/``ori_shape``.

Modality kinds (``modality_types``):

* ``'rgb'``: 8-bit, 3 channels. Files are read as RGB; arrays must be RGB order,
  uint8 (or float 0..255).
* ``'depth'``: 1 channel. Files: 16-bit (or 8-bit) PNG decoded with the depth
  encoding (see :mod:`cen_mm.seg.datasets.depth_io`); integer arrays likewise;
  float arrays are taken as metres.
* ``'hha'`` / ``'image'``: 8-bit images with the model's channel count for that
  modality (HHA: 3), read in RGB order.
"""
import os.path as osp
from typing import List, Optional, Sequence, Tuple

import cv2
import mmengine.fileio as fileio
import numpy as np
from mmcv.transforms import BaseTransform

from mmseg.registry import TRANSFORMS
from ..datasets.depth_io import (check_depth_encoding, check_hole_handling,
                                 decode_depth, fill_depth_holes)

MODALITY_TYPES = ('rgb', 'depth', 'hha', 'image')
# the most common 16-bit depth PNG convention (Kinect v2, RealSense, ...): millimetres
FALLBACK_DEPTH_ENCODING = dict(type='linear', scale=1 / 1000)


def describe_input(item) -> str:
    """How errors name one modality input: its path, or the array's shape/dtype."""
    if isinstance(item, np.ndarray):
        return f'array {tuple(item.shape)} {item.dtype}'
    return str(item)


def _read_file(path: str, what: str) -> np.ndarray:
    """Decode an image file with its stored bit depth and channels (BGR order)."""
    try:
        data = fileio.get(path)
    except FileNotFoundError:
        raise FileNotFoundError(f'{what} file {path} not found') from None
    array = cv2.imdecode(np.frombuffer(data, np.uint8),
                         cv2.IMREAD_UNCHANGED | cv2.IMREAD_IGNORE_ORIENTATION)
    if array is None:
        raise ValueError(f'{what} file {path} cannot be decoded (corrupt or not an '
                         'image)')
    return array


@TRANSFORMS.register_module()
class RGBDInferencerLoader(BaseTransform):
    """Stack the modalities of one sample (paths or arrays) into ``results['img']``.

    Required key: ``inputs``: a sequence with one item per modality, in the model's
    order (``modality_names``), each a file path or a numpy array.

    Args:
        modality_channels: channels per modality, the backbone's ``in_channels``,
            e.g. ``(3, 1)``.
        modality_types: kind of each modality (see module doc), e.g.
            ``('rgb', 'depth')``.
        modality_names: names used in messages (default: the types).
        depth_encoding: how stored depth integers map to metres, e.g.
            ``dict(type='linear', scale=1/5000)`` (NYUDv2). Needed for 'depth'.
        hole_mode, fill_method: as in ``LoadRGBDFromFile``.
    """

    def __init__(self,
                 modality_channels: Sequence[int] = (3, 1),
                 modality_types: Sequence[str] = ('rgb', 'depth'),
                 modality_names: Optional[Sequence[str]] = None,
                 depth_encoding: Optional[dict] = None,
                 hole_mode: str = 'keep',
                 fill_method: str = 'nearest'):
        if len(modality_channels) != len(modality_types):
            raise ValueError(f'modality_channels {tuple(modality_channels)} and '
                             f'modality_types {tuple(modality_types)} differ in length')
        for kind, channels in zip(modality_types, modality_channels):
            if kind not in MODALITY_TYPES:
                raise ValueError(f'modality type must be one of {MODALITY_TYPES}, '
                                 f'got {kind!r}')
            expected = dict(rgb=3, depth=1, hha=3).get(kind, channels)
            if channels != expected:
                raise ValueError(f"a '{kind}' modality has {expected} channels, the "
                                 f'model expects {channels}')
        check_hole_handling(hole_mode, fill_method)
        self.modality_channels = tuple(int(c) for c in modality_channels)
        self.modality_types = tuple(modality_types)
        self.modality_names = tuple(modality_names or modality_types)
        self.depth_encoding = (None if depth_encoding is None else
                               check_depth_encoding(depth_encoding))
        if 'depth' in self.modality_types and self.depth_encoding is None:
            raise ValueError("a 'depth' modality needs depth_encoding, e.g. "
                             "dict(type='linear', scale=1/5000)")
        self.hole_mode = hole_mode
        self.fill_method = fill_method

    # ---- one modality ---------------------------------------------------------------
    def _image(self, item, m: int) -> np.ndarray:
        """8-bit image modality -> float32 (H, W, C) in RGB order."""
        name, channels = self.modality_names[m], self.modality_channels[m]
        is_file = not isinstance(item, np.ndarray)
        array = _read_file(item, name) if is_file else item
        if array.ndim == 2:
            array = array[..., None]
        where = f'{name} input {describe_input(item)}'
        if array.ndim != 3 or array.shape[2] != channels:
            got = array.shape[2] if array.ndim == 3 else f'shape {array.shape}'
            raise ValueError(f'{where} has {got} channels, the model expects '
                             f'{channels} for {name}')
        if is_file or not np.issubdtype(array.dtype, np.floating):
            if array.dtype != np.uint8:
                raise ValueError(
                    f'{where} has {array.dtype} values ({8 * array.itemsize}-bit), '
                    f'expected an 8-bit {name} image (uint8; float arrays 0..255 are '
                    'accepted too)')
        if is_file and channels == 3:
            array = cv2.cvtColor(array, cv2.COLOR_BGR2RGB)
        return np.ascontiguousarray(array, dtype=np.float32)

    def _depth(self, item, m: int) -> np.ndarray:
        """Depth modality -> float32 (H, W, 1) metres (0 = hole unless filled)."""
        name = self.modality_names[m]
        is_file = not isinstance(item, np.ndarray)
        raw = _read_file(item, name) if is_file else item
        where = f'{name} input {describe_input(item)}'
        if raw.ndim == 3 and raw.shape[2] == 1:
            raw = raw[..., 0]
        if raw.ndim != 2:
            raise ValueError(
                f'{where} has {raw.shape[2] if raw.ndim == 3 else raw.shape} channels, '
                'expected a single-channel depth map (an HHA image needs a config '
                "whose loader has depth_type='hha')")
        if not is_file and np.issubdtype(raw.dtype, np.floating):
            depth = raw.astype(np.float32)  # metres already
        else:
            if raw.dtype not in (np.uint8, np.uint16):
                raise ValueError(f'{where} has {raw.dtype} values, expected a 16-bit '
                                 '(or 8-bit) depth map, or float metres for arrays')
            enc = self.depth_encoding
            if enc['type'] == 'linear' and np.iinfo(raw.dtype).max * enc['scale'] < 1:
                raise ValueError(
                    f'{where} is {8 * raw.itemsize}-bit, but the depth encoding '
                    f'{enc} maps it to at most {np.iinfo(raw.dtype).max * enc["scale"]:.3f}'
                    ' m: expected a 16-bit depth PNG. For 8-bit relative depth pass '
                    "depth_encoding=dict(type='linear', scale=1/255)")
            try:
                depth = decode_depth(raw, enc)
            except ValueError as err:
                raise ValueError(f'{where}: {err}') from None
        if self.hole_mode == 'fill':
            depth = fill_depth_holes(depth, self.fill_method)
        return depth[..., None]

    def load_modalities(self, inputs: Sequence) -> List[np.ndarray]:
        """One float32 (H, W, C_m) array per modality, after all checks."""
        if isinstance(inputs, np.ndarray) or len(inputs) != len(self.modality_types):
            got = 1 if isinstance(inputs, np.ndarray) else len(inputs)
            raise ValueError(
                f'expected {len(self.modality_types)} inputs '
                f'({", ".join(self.modality_names)}), got {got}')
        arrays = []
        for m, (item, kind) in enumerate(zip(inputs, self.modality_types)):
            if item is None:
                raise ValueError(f'missing modality {self.modality_names[m]!r}: the '
                                 f'model needs {", ".join(self.modality_names)}')
            arrays.append(self._depth(item, m) if kind == 'depth' else
                          self._image(item, m))
        h, w = arrays[0].shape[:2]
        for m, array in enumerate(arrays[1:], 1):
            if array.shape[:2] != (h, w):
                raise ValueError(
                    f'size mismatch: {self.modality_names[0]} '
                    f'{describe_input(inputs[0])} is {w}x{h} (WxH) but '
                    f'{self.modality_names[m]} {describe_input(inputs[m])} is '
                    f'{array.shape[1]}x{array.shape[0]}')
        return arrays

    def transform(self, results: dict) -> dict:
        inputs = results['inputs']
        arrays = self.load_modalities(inputs)
        img = np.concatenate(arrays, axis=2)
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        results['modality_channels'] = self.modality_channels
        # file names for the outputs (first modality's path, or a generated name)
        for key, item in (('img_path', inputs[0]),
                          ('depth_path', inputs[1] if len(inputs) > 1 else None)):
            if isinstance(item, str):
                results[key] = item
        results.setdefault('img_path', results.get('sample_name'))
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(modality_channels={self.modality_channels}, '
                f'modality_types={self.modality_types}, '
                f'depth_encoding={self.depth_encoding}, hole_mode={self.hole_mode!r})')


def default_modality_types(modality_channels: Sequence[int],
                           depth_type: str = 'depth') -> Tuple[str, ...]:
    """Kinds for the backbone's ``in_channels``: 3 -> 'rgb' for the first, then
    1 -> 'depth', 3 -> ``depth_type`` ('hha') for the second, 'image' otherwise."""
    kinds = []
    for m, channels in enumerate(modality_channels):
        if m == 0 and channels == 3:
            kinds.append('rgb')
        elif channels == 1:
            kinds.append('depth')
        elif m == 1 and channels == 3 and depth_type == 'hha':
            kinds.append('hha')
        else:
            kinds.append('image')
    return tuple(kinds)


def default_modality_names(kinds: Sequence[str]) -> Tuple[str, ...]:
    """Unique names: the kinds, numbered where a kind repeats (image1, image2)."""
    names = []
    for m, kind in enumerate(kinds):
        names.append(kind if list(kinds).count(kind) == 1 else f'{kind}{m}')
    return tuple(names)


def sample_name_of(inputs: Sequence, index: int) -> str:
    """Output name of a sample: the first modality's file stem, else ``NNNNNNNN``."""
    first = inputs[0]
    if isinstance(first, str):
        return osp.splitext(osp.basename(first))[0]
    return f'{index:08d}'
