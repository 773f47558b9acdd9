"""Resize a stacked multi-modal image with one interpolation per modality.

The official CEN segmentation code resizes RGB with bicubic and depth with nearest
interpolation (``utils/transforms.py``:
``{'rgb': INTER_CUBIC, 'depth': INTER_NEAREST}``):
nearest keeps every depth value a measured one, so holes (0) stay holes and no
"half-way" depths appear at object borders. mmseg's ``Resize`` applies one
interpolation to all channels of ``results['img']``; ``ModalityResize`` splits the
stacked image by ``results['modality_channels']`` and resizes each modality with its
own interpolation, to one common size (labels: nearest, as mmseg).
"""
from typing import Optional, Sequence, Tuple

import mmcv
import numpy as np
from mmseg.datasets.transforms import Resize
from mmseg.registry import TRANSFORMS

INTERPOLATIONS = ('nearest', 'bilinear', 'bicubic', 'area', 'lanczos')


@TRANSFORMS.register_module()
class ModalityResize(Resize):
    """mmseg's ``Resize`` with one interpolation (and optional value clip) per modality.

    Required keys: ``img`` (H, W, sum C_m), ``modality_channels`` (C_0, C_1, ...), e.g.
    ``(3, 1)`` for RGB + depth (set by ``LoadRGBDFromFile``). Modified keys: as
    ``Resize`` (``img``, ``img_shape``, ``scale``, ``scale_factor``, ``keep_ratio``,
    ``gt_seg_map``).

    Args:
        interpolations: one interpolation per modality, in the order of
            ``modality_channels``, e.g. ``('bicubic', 'nearest')`` (official CEN code).
            cv2 backend only.
        value_ranges: optional per modality ``(low, high)`` to clip to after resizing,
            or ``None``. Bicubic overshoots: the official code resized uint8 RGB, which
            saturates at 0 and 255, hence ``((0, 255), None)`` for RGB + depth.
        **kwargs: ``scale``, ``scale_factor``, ``keep_ratio``, ... as mmseg's ``Resize``
            (``interpolation`` is replaced by ``interpolations``). Usable as
            ``RandomResize(..., resize_type='ModalityResize', interpolations=...)``.
    """

    def __init__(self,
                 interpolations: Sequence[str] = ('bicubic', 'nearest'),
                 value_ranges: Optional[Sequence[Optional[Tuple[float, float]]]] = None,
                 **kwargs):
        if 'interpolation' in kwargs:
            raise ValueError('ModalityResize: give `interpolations` (one per '
                             'modality), not `interpolation`')
        if kwargs.get('backend', 'cv2') != 'cv2':
            raise ValueError('ModalityResize supports the cv2 backend only, got '
                             f"backend={kwargs['backend']!r}")
        super().__init__(**kwargs)
        interpolations = tuple(interpolations)
        bad = [i for i in interpolations if i not in INTERPOLATIONS]
        if not interpolations or bad:
            raise ValueError(f'ModalityResize: interpolations must be a non-empty '
                             f'sequence of {INTERPOLATIONS}, got {interpolations}')
        if value_ranges is not None:
            value_ranges = tuple(None if r is None else (float(r[0]), float(r[1]))
                                 for r in value_ranges)
            if len(value_ranges) != len(interpolations):
                raise ValueError(
                    f'ModalityResize: value_ranges {value_ranges} needs one entry '
                    f'(or None) per modality, like interpolations {interpolations}')
        self.interpolations = interpolations
        self.value_ranges = value_ranges

    def _resize_img(self, results: dict) -> None:
        img = results.get('img')
        if img is None:
            return
        channels = results.get('modality_channels')
        if channels is None:
            raise KeyError('ModalityResize needs results["modality_channels"] (the '
                           'channels of each stacked modality, set by '
                           'LoadRGBDFromFile); '
                           'use mmseg\'s Resize for a single-modality image')
        channels = tuple(int(c) for c in channels)
        if len(channels) != len(self.interpolations) or img.ndim != 3 \
                or img.shape[2] != sum(channels):
            raise ValueError(
                f'ModalityResize: image of shape {img.shape} with modality_channels '
                f'{channels} does not match interpolations {self.interpolations} '
                '(one per modality, channels summing to the image channels)')
        h, w = img.shape[:2]
        if self.keep_ratio:
            new_w, new_h = mmcv.rescale_size((w, h), results['scale'])
        else:
            new_w, new_h = results['scale']
        parts = np.split(img, np.cumsum(channels)[:-1], axis=2)
        ranges = self.value_ranges or (None, ) * len(parts)
        resized = []
        for part, interpolation, value_range in zip(parts, self.interpolations, ranges):
            out = mmcv.imresize(part, (new_w, new_h), interpolation=interpolation,
                                backend='cv2')
            out = out.reshape(new_h, new_w, part.shape[2])  # cv2 drops a last axis of 1
            if value_range is not None:
                out = np.clip(out, *value_range)
            resized.append(out)
        img = np.concatenate(resized, axis=2)
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['scale_factor'] = (new_w / w, new_h / h)
        results['keep_ratio'] = self.keep_ratio

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(scale={self.scale}, '
                f'scale_factor={self.scale_factor}, keep_ratio={self.keep_ratio}, '
                f'interpolations={self.interpolations}, '
                f'value_ranges={self.value_ranges})')
