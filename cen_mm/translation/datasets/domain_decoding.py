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

**Depth holes** (Taskonomy's invalid depth 65535). What the official code makes of them
depends on the Pillow version: Pillow < 10.3 — the papers' time — opens 16-bit PNGs as
int32 (mode ``I``), so ``log(1 + 65535)·255/11.1 = 254.8`` gives **254, "far"**: the
papers' models were trained and evaluated with holes as far. Pillow >= 10.3 opens them
as uint16, ``1 + v`` overflows to 0, ``log(0) = -inf`` casts to 0 on x86: holes as
**0, "near"**. ``DEPTH_HOLES`` names both; ``'far'`` (the papers') is the default of
:func:`domain_decoding` and of the paper configs, ``'zero'`` is the option
(``LoadTaskonomyDomains(depth_holes='zero')``).

**Bit depth.** Depth and edge domains are 16-bit in Taskonomy (``bits=16`` in their
spec). An 8-bit file there (e.g. a re-exported or preview image) would silently be
squeezed into 0..127 (depth) or 0..5 (edges): it is an error naming the file. A 16-bit
depth file whose values all lie in 0..255 (8-bit data stored as 16-bit; real depth
would be within 0.5 m everywhere) gets a warning.

Differences, on purpose: values outside [min, max] are clipped (the official ``astype``
wraps them around). Everything is configurable per domain with a ``DomainDecoding`` dict:

``dict(log1p=bool, min=float, max=float, invalid=int or None, invalid_to=int,
bits=16 or None)``.
"""
import warnings
from typing import Dict, Optional

import numpy as np

# Taskonomy's invalid depth and what it decodes to ('far': the papers', Pillow < 10.3;
# 'zero': the official code under Pillow >= 10.3)
INVALID_DEPTH = 65535
DEPTH_HOLES = {'far': 254, 'zero': 0}
DEPTH_DECODING = dict(log1p=True, min=0.0, max=11.1, invalid=INVALID_DEPTH,
                      invalid_to=DEPTH_HOLES['far'], bits=16)
DEFAULT_DOMAIN_DECODING: Dict[str, dict] = {
    'depth_euclidean': DEPTH_DECODING,
    'depth_zbuffer': DEPTH_DECODING,
    'edge_texture': dict(min=0.0, max=11355.0, bits=16),
    'edge_occlusion': dict(min=0.0, max=11584.0, bits=16),
}
_SPEC_KEYS = {'log1p', 'min', 'max', 'invalid', 'invalid_to', 'bits'}


def domain_decoding(domain: str, overrides: Optional[Dict[str, dict]] = None,
                    depth_holes: str = 'far') -> dict:
    """The decoding spec of ``domain``: ``overrides[domain]``, else the default table,
    else (any other domain containing ``depth``) log-scaling as the official code, else
    identity (8-bit images). ``depth_holes`` (``'far'``/``'zero'``, see
    ``DEPTH_HOLES``) sets ``invalid_to`` of the default depth specs."""
    if depth_holes not in DEPTH_HOLES:
        raise ValueError(f'depth_holes must be one of {sorted(DEPTH_HOLES)} (far: '
                         f'invalid depth -> 254 as in the papers, Pillow < 10.3; zero: '
                         f'-> 0 as the official code under Pillow >= 10.3), got '
                         f'{depth_holes!r}')
    if overrides and domain in overrides:
        spec = dict(overrides[domain])
    elif domain in DEFAULT_DOMAIN_DECODING:
        spec = dict(DEFAULT_DOMAIN_DECODING[domain])
    elif 'depth' in domain:
        spec = dict(DEPTH_DECODING)
    else:
        spec = {}
    if spec.get('invalid') == INVALID_DEPTH and not (overrides and domain in overrides):
        spec['invalid_to'] = DEPTH_HOLES[depth_holes]
    unknown = set(spec) - _SPEC_KEYS
    if unknown:
        raise ValueError(f'decoding spec of domain {domain!r} has unknown keys '
                         f'{sorted(unknown)}; allowed: {sorted(_SPEC_KEYS)}')
    if ('min' in spec) != ('max' in spec):
        raise ValueError(f'decoding spec of domain {domain!r} needs both min and max, '
                         f'got {spec}')
    if spec.get('bits') not in (None, 8, 16):
        raise ValueError(f'decoding spec of domain {domain!r}: bits must be 8, 16 or '
                         f'None, got {spec}')
    return spec


def check_bit_depth(array: np.ndarray, domain: str, spec: dict, where: str) -> None:
    """Reject 8-bit data for a 16-bit domain and out-of-range integers; warn about
    16-bit depth files whose values all fit in 8 bits."""
    bits = spec.get('bits')
    if bits != 16:
        return
    if array.dtype in (np.uint8, np.int8, np.bool_):
        raise ValueError(
            f'domain {domain!r}{where}: expected a 16-bit PNG (Taskonomy stores '
            f'{domain} as uint16), got 8-bit {array.dtype} data (values '
            f'{int(array.min())}..{int(array.max())}); decoded with the 16-bit range it '
            f'would be squeezed into a fraction of 0..255. Use the original 16-bit '
            f'Taskonomy file, or set decode={{{domain!r}: dict(min=..., max=...)}} '
            f'in LoadTaskonomyDomains for 8-bit data.')
    if not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f'domain {domain!r}{where}: expected 16-bit integer data, got '
                         f'{array.dtype}')
    if array.size and (array.min() < 0 or array.max() > 65535):
        raise ValueError(f'domain {domain!r}{where}: values {int(array.min())}..'
                         f'{int(array.max())} are outside the 16-bit range 0..65535')
    if spec.get('log1p') and array.size and array.max() <= 255:
        # depth within 0.5 m everywhere (edges may legitimately be this weak)
        warnings.warn(
            f'domain {domain!r}{where}: 16-bit file whose values all lie in 0..255 '
            f'(max {int(array.max())}): this looks like 8-bit data stored as 16-bit, '
            f'which the {domain} decoding squeezes into a fraction of 0..255. Check the '
            f'file, or set decode={{{domain!r}: dict(...)}} in LoadTaskonomyDomains.',
            UserWarning, stacklevel=3)


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
    check_bit_depth(array, domain, spec, where)
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
