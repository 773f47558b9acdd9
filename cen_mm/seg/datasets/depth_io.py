"""Depth decoding and hole filling, shared by the loader, the converters and the demo set.

A *depth encoding* says how the integers stored in a depth PNG map to metres:

* ``dict(type='linear', scale=s)``: ``metres = value * s``. NYUDv2 in the CEN /
  light-weight RefineNet release: uint16, ``s = 1/5000``. 8-bit "relative" depth maps
  (e.g. the CMX/DFormer releases) can be read with ``s = 1/255``: values in [0, 1],
  *not* metres.
* ``dict(type='sunrgbd')``: SUN RGB-D's own uint16 encoding (its toolbox's
  ``read3dPoints``): the 16 bits are rotated right by 3, giving millimetres.

In every encoding the stored value 0 means "no measurement" (a hole) and decodes to 0.
"""
from typing import Optional

import numpy as np

DEPTH_ENCODING_TYPES = ('linear', 'sunrgbd')
HOLE_MODES = ('keep', 'fill')
FILL_METHODS = ('nearest', 'inpaint')


def check_hole_handling(hole_mode: str, fill_method: str) -> None:
    """ValueError unless ``hole_mode`` is in HOLE_MODES and ``fill_method`` in
    FILL_METHODS (the options of every loader that may fill depth holes)."""
    if hole_mode not in HOLE_MODES:
        raise ValueError(f'hole_mode must be one of {HOLE_MODES}, got {hole_mode!r}')
    if fill_method not in FILL_METHODS:
        raise ValueError(
            f'fill_method must be one of {FILL_METHODS}, got {fill_method!r}')


def check_depth_encoding(encoding: Optional[dict], where: str = 'depth_encoding') -> dict:
    """Validate an encoding dict and return a normalised copy; ValueError otherwise."""
    if not isinstance(encoding, dict) or encoding.get('type') not in DEPTH_ENCODING_TYPES:
        raise ValueError(
            f'{where} must be a dict with type in {DEPTH_ENCODING_TYPES}, e.g. '
            f"dict(type='linear', scale=1/5000), got {encoding!r}")
    encoding = dict(encoding)
    if encoding['type'] == 'linear':
        scale = encoding.get('scale')
        if not isinstance(scale, (int, float)) or not scale > 0:
            raise ValueError(f"{where}: type 'linear' needs a positive 'scale' "
                             f'(metres per stored unit), got {scale!r}')
        encoding['scale'] = float(scale)
    unknown = set(encoding) - {'type', 'scale'}
    if unknown:
        raise ValueError(f'{where}: unknown keys {sorted(unknown)} in {encoding!r}')
    return encoding


def decode_depth(raw: np.ndarray, encoding: dict) -> np.ndarray:
    """Stored depth (H, W) uint8/uint16 -> float32 (H, W) in metres (0 = hole)."""
    encoding = check_depth_encoding(encoding)
    if raw.ndim != 2:
        raise ValueError(f'depth must be a single-channel (H, W) array, got shape '
                         f'{raw.shape}')
    if encoding['type'] == 'linear':
        if raw.dtype not in (np.uint8, np.uint16):
            raise ValueError(f"linear depth must be uint8 or uint16, got {raw.dtype}")
        return raw.astype(np.float32) * np.float32(encoding['scale'])
    if raw.dtype != np.uint16:
        raise ValueError(f"SUN RGB-D depth encoding needs uint16 values, got {raw.dtype}")
    value = raw.astype(np.uint32)
    millimetres = ((value >> 3) | (value << 13)) & 0xFFFF
    return millimetres.astype(np.float32) / np.float32(1000.0)


#: range of a plausible median depth (metres) of indoor RGB-D datasets (NYUDv2, SUN
#: RGB-D): e.g. NYUDv2 saved in millimetres but read at 1/5000 gives ~0.5 m.
PLAUSIBLE_MEDIAN_DEPTH = (1.0, 6.0)


def implausible_depth_message(median_m: float, encoding: dict, where: str,
                              plausible=PLAUSIBLE_MEDIAN_DEPTH) -> Optional[str]:
    """None if ``median_m`` (median decoded depth, holes excluded) is plausible for an
    indoor scene, else a message naming ``where``, the encoding and the fix."""
    low, high = plausible
    if low <= median_m <= high:
        return None
    return (f'{where}: the median depth decodes to {median_m:.2f} m with depth_encoding '
            f'{encoding}, outside the {low:g}-{high:g} m of indoor scenes: the depth '
            'files are probably in another unit (e.g. millimetres: '
            "depth_encoding=dict(type='linear', scale=0.001)). Set the dataset's "
            'depth_encoding to match the files (or reconvert them with '
            'tools/dataset_converters/).')


def encode_sunrgbd_depth(metres: np.ndarray) -> np.ndarray:
    """Inverse of the ``'sunrgbd'`` decoding (for test fixtures): metres -> uint16."""
    millimetres = np.round(np.asarray(metres, np.float64) * 1000).astype(np.uint32)
    if millimetres.max(initial=0) > 0xFFFF:
        raise ValueError('depth beyond 65.535 m cannot be stored in the SUN RGB-D '
                         'encoding')
    return (((millimetres << 3) | (millimetres >> 13)) & 0xFFFF).astype(np.uint16)


def fill_depth_holes(depth: np.ndarray, method: str = 'nearest') -> np.ndarray:
    """Fill zeros (holes) of a float (H, W) depth map from valid neighbours.

    ``'nearest'``: each hole takes the value of the nearest valid pixel (Euclidean
    distance transform). ``'inpaint'``: OpenCV's Navier-Stokes inpainting (smooth,
    within the range of the surrounding values; OpenCV's Telea method overshoots at depth
    edges on float maps). A map without any valid pixel is returned unchanged.
    """
    if method not in FILL_METHODS:
        raise ValueError(f'fill method must be one of {FILL_METHODS}, got {method!r}')
    holes = depth == 0
    if not holes.any() or holes.all():
        return depth
    if method == 'nearest':
        from scipy import ndimage
        _, (rows, cols) = ndimage.distance_transform_edt(holes, return_indices=True)
        return depth[rows, cols]
    import cv2
    filled = cv2.inpaint(depth.astype(np.float32), holes.astype(np.uint8), 3,
                         cv2.INPAINT_NS)
    # Valid pixels stay bit-exact.
    return np.where(holes, filled, depth).astype(np.float32)
