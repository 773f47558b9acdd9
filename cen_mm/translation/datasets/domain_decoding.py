"""Decoding Taskonomy domain PNGs into 3-channel uint8 images, as the official CEN code.

The official data loader (``image2image_translation/utils/dataset.py``) turns every domain
into an 8-bit RGB image before the usual Pix2Pix resize/crop/flip and [-1, 1] scaling:

1. single-channel images are repeated to 3 channels;
2. domains whose name contains ``depth`` are log-scaled, ``v -> log(1 + v)``;
3. domains with a known range are mapped linearly to [0, 255],
   ``(v - min)·255/(max - min)``,
   with max = 11.1 for the log depths (log(1 + 65535) = 11.09), 11355 for
   ``edge_texture`` and 11584 for ``edge_occlusion`` (16-bit PNGs);
4. the result is cast to uint8.

Differences, on purpose: values outside [min, max] are clipped (the official ``astype``
wraps them around), and Taskonomy's invalid depth value 65535 is mapped to 0 explicitly.
The official code reaches 0 for it by accident: ``1 + v`` overflows uint16 to 0 and
``log(0) = -inf`` casts to 0 on x86 — so the trained models saw holes as 0 and this keeps
that. Everything is configurable per domain with a ``DomainDecoding`` dict:

``dict(log1p=bool, min=float, max=float, invalid=int or None, invalid_to=int)``.
"""
from typing import Dict, Optional

import numpy as np

DEPTH_DECODING = dict(log1p=True, min=0.0, max=11.1, invalid=65535, invalid_to=0)
DEFAULT_DOMAIN_DECODING: Dict[str, dict] = {
    'depth_euclidean': DEPTH_DECODING,
    'depth_zbuffer': DEPTH_DECODING,
    'edge_texture': dict(min=0.0, max=11355.0),
    'edge_occlusion': dict(min=0.0, max=11584.0),
}
_SPEC_KEYS = {'log1p', 'min', 'max', 'invalid', 'invalid_to'}


def domain_decoding(domain: str, overrides: Optional[Dict[str, dict]] = None) -> dict:
    """The decoding spec of ``domain``: ``overrides[domain]``, else the default table,
    else (any other domain containing ``depth``) log-scaling as the official code, else
    identity (8-bit images)."""
    if overrides and domain in overrides:
        spec = dict(overrides[domain])
    elif domain in DEFAULT_DOMAIN_DECODING:
        spec = dict(DEFAULT_DOMAIN_DECODING[domain])
    elif 'depth' in domain:
        spec = dict(DEPTH_DECODING)
    else:
        spec = {}
    unknown = set(spec) - _SPEC_KEYS
    if unknown:
        raise ValueError(f'decoding spec of domain {domain!r} has unknown keys '
                         f'{sorted(unknown)}; allowed: {sorted(_SPEC_KEYS)}')
    if ('min' in spec) != ('max' in spec):
        raise ValueError(f'decoding spec of domain {domain!r} needs both min and max, '
                         f'got {spec}')
    return spec


def decode_domain(array: np.ndarray, domain: str, spec: dict,
                  source: str = '') -> np.ndarray:
    """Decode one domain image (H, W) / (H, W, 1|3) of any integer dtype.

    Returns:
        (H, W, 3) uint8.
    """
    where = f' ({source})' if source else ''
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[..., 0]
    if array.ndim == 2:
        array = np.repeat(array[..., None], 3, axis=2)
    if array.ndim != 3 or array.shape[2] != 3:
        raise ValueError(f'domain {domain!r}{where}: expected a 1- or 3-channel image, '
                         f'got shape {array.shape}')
    if not spec:
        if array.dtype != np.uint8:
            raise ValueError(
                f'domain {domain!r}{where} is {array.dtype} but has no decoding range; '
                f'set e.g. decode={{{domain!r}: dict(min=0, max=...)}} in '
                'LoadTaskonomyDomains')
        return np.ascontiguousarray(array)
    invalid = spec.get('invalid')
    holes = (array == invalid) if invalid is not None else None
    values = array.astype(np.float64)
    if spec.get('log1p', False):
        values = np.log1p(values)
    if 'max' in spec:
        lo, hi = float(spec['min']), float(spec['max'])
        if not hi > lo:
            raise ValueError(f'decoding spec of domain {domain!r}: max must be > min, '
                             f'got {spec}')
        values = (values - lo) * (255.0 / (hi - lo))
    out = np.clip(values, 0, 255).astype(np.uint8)
    if holes is not None:
        out[holes] = spec.get('invalid_to', 0)
    return out
