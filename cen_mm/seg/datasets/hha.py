"""HHA encoding of a depth map (Gupta et al., ECCV 2014), vectorised with numpy.

HHA turns depth (H, W) in metres plus camera intrinsics into three 8-bit channels:

1. **horizontal disparity**: ``310 / max(z, 1 m)`` (``z`` = depth in metres; 255 for
   everything nearer than 1.22 m), as in the authors' ``saveHHA.m`` (31000 / z in cm).
2. **height above ground** in centimetres (0..255, i.e. up to 2.55 m). Ground = the
   lowest valid point along the gravity direction; if that point is less than 0.9 m
   below the camera (no floor in view) the camera is assumed to be 1.3 m above ground,
   as in the authors' code.
3. **angle** between the local surface normal and the "up" direction, in degrees, + 38
   (floor 38, wall 128, ceiling 218).

The channels are stored in this order as the file's R, G, B (as the public HHA PNGs of
NYUDv2 / CMX are); ``LoadRGBDFromFile(depth_type='hha')`` reads them in that order.

Normals are least-squares planes fitted to the 3D points in a (2r+1)² pixel window
(box sums of the point moments, closed-form smallest eigenvector of each 3×3 covariance).
Gravity ("up") is estimated as in the paper, from the flatter half of the fits: start
from the camera's -y axis; 5 rounds at 45°, then 5 at 15°, collect normals nearly
parallel (floors, ceilings) and nearly perpendicular (walls) to the current estimate and
take the direction most parallel to the first and most perpendicular to the second
(smallest eigenvector of Σ⊥ nnᵀ - Σ∥ nnᵀ). Camera frame: x right, y down, z forward
(OpenCV). Cost: ~0.2 s CPU for a 640×480 frame (one core).
"""
from dataclasses import dataclass
from typing import Optional, Sequence, Tuple

import numpy as np

#: Maximum of the disparity channel before clipping (31000 / z_cm in saveHHA.m).
DISPARITY_SCALE = 310.0
#: Depth below which the disparity saturates (saveHHA.m: z >= 100 cm).
MIN_DISPARITY_DEPTH = 1.0
#: Offset of the angle channel: angle + 128 - 90 (saveHHA.m).
ANGLE_OFFSET = 38.0
#: Ground fallback: lowest point less than this far below the camera -> no floor seen.
MIN_CAMERA_HEIGHT = 0.9
#: ... and then the camera is assumed to be this high above the ground.
DEFAULT_CAMERA_HEIGHT = 1.3


@dataclass(frozen=True)
class CameraIntrinsics:
    """Pinhole intrinsics in pixels of the image the depth map belongs to."""
    fx: float
    fy: float
    cx: float
    cy: float

    def cropped(self, left: float, top: float) -> 'CameraIntrinsics':
        """Intrinsics after cutting ``left`` columns and ``top`` rows off the image."""
        return CameraIntrinsics(self.fx, self.fy, self.cx - left, self.cy - top)

    def as_list(self) -> list:
        return [self.fx, self.fy, self.cx, self.cy]


#: NYUDv2 Kinect v1 RGB camera (NYU Depth V2 toolbox, camera_params.m), 640×480.
NYUDV2_INTRINSICS = CameraIntrinsics(518.857901, 519.469611, 325.582449, 253.736166)
NYUDV2_SIZE = (640, 480)  # (W, H) the intrinsics belong to

#: SUN RGB-D per-sensor intrinsics keyed by image size (W, H). Typical values of the
#: release's per-image ``intrinsics.txt``; the official converter
#: (``sunrgbd_official.py``) records each image's own intrinsics in ``camera.json``,
#: which takes precedence. 640×480 is the Xtion (SUN3D); the Kinect v1 frames of the
#: release are 561×427 (NYU) or 640×480 (B3DO, here read as Xtion).
SUNRGBD_INTRINSICS_BY_SIZE = {
    (561, 427): CameraIntrinsics(520.532, 520.7444, 277.9258, 215.115),
    (640, 480): CameraIntrinsics(570.342205, 570.342205, 310.0, 225.0),
    (681, 531): CameraIntrinsics(691.584229, 691.584229, 362.777557, 264.75),
    (730, 530): CameraIntrinsics(529.5, 529.5, 365.0, 265.0),
}


@dataclass
class HHAChannels:
    """Physical HHA quantities of one frame (before the 8-bit encoding).

    Attributes:
        disparity: (H, W) float32, 310 / max(z, 1) (0 where there is no depth).
        height: (H, W) float32 metres above the ground.
        angle: (H, W) float32 degrees between the normal and ``up`` (NaN: no normal).
        up: (3,) unit gravity-up vector in camera coordinates.
        valid: (H, W) bool, pixels with depth.
    """
    disparity: np.ndarray
    height: np.ndarray
    angle: np.ndarray
    up: np.ndarray
    valid: np.ndarray


def backproject(depth: np.ndarray, intrinsics: CameraIntrinsics) -> np.ndarray:
    """(H, W) depth in metres -> (H, W, 3) float64 camera coordinates (x right, y
    down, z forward)."""
    h, w = depth.shape
    z = depth.astype(np.float64)
    u = (np.arange(w, dtype=np.float64) - intrinsics.cx) / intrinsics.fx
    v = (np.arange(h, dtype=np.float64) - intrinsics.cy) / intrinsics.fy
    return np.stack([z * u[None, :], z * v[:, None], z], axis=-1)


def _box_sum(array: np.ndarray, radius: int) -> np.ndarray:
    """(H, W, C) float64 -> sum over the (2r+1)² window around each pixel (zeros
    outside the image); OpenCV's separable running-sum box filter."""
    import cv2
    size = 2 * radius + 1
    out = cv2.boxFilter(array, -1, (size, size), normalize=False,
                        borderType=cv2.BORDER_CONSTANT)
    return out.reshape(array.shape)


def _smallest_eigenvectors(a00, a01, a02, a11, a12, a22
                           ) -> Tuple[np.ndarray, np.ndarray]:
    """Unit eigenvectors (..., 3) of the smallest eigenvalue of symmetric 3×3 matrices
    given by their six entries (arrays of equal shape), and that eigenvalue / trace
    (0 for a perfect plane, up to 1/3).

    Closed form (trigonometric eigenvalues, then the longest cross product of two rows
    of ``A - λI``): several times faster than batched ``np.linalg.eigh``. NaN where a
    matrix is isotropic or zero.
    """
    q = (a00 + a11 + a22) / 3
    d00, d11, d22 = a00 - q, a11 - q, a22 - q
    p = np.sqrt((d00 * d00 + d11 * d11 + d22 * d22
                 + 2 * (a01 * a01 + a02 * a02 + a12 * a12)) / 6)
    with np.errstate(divide='ignore', invalid='ignore'):
        det = (d00 * (d11 * d22 - a12 * a12) - a01 * (a01 * d22 - a12 * a02)
               + a02 * (a01 * a12 - d11 * a02)) / p ** 3
        phi = np.arccos(np.clip(det / 2, -1, 1)) / 3
        lam = q + 2 * p * np.cos(phi + 2 * np.pi / 3)  # smallest eigenvalue
        b00, b11, b22 = a00 - lam, a11 - lam, a22 - lam
        # rows r0 = (b00, a01, a02), r1 = (a01, b11, a12), r2 = (a02, a12, b22)
        candidates = np.stack([
            np.stack([a01 * a12 - a02 * b11, a02 * a01 - b00 * a12,
                      b00 * b11 - a01 * a01], -1),  # r0 x r1
            np.stack([a01 * b22 - a02 * a12, a02 * a02 - b00 * b22,
                      b00 * a12 - a01 * a02], -1),  # r0 x r2
            np.stack([b11 * b22 - a12 * a12, a12 * a02 - a01 * b22,
                      a01 * a12 - b11 * a02], -1),  # r1 x r2
        ], -2)
        sq = np.einsum('...ij,...ij->...i', candidates, candidates)
        best = np.argmax(sq, axis=-1)
        vec = np.take_along_axis(candidates, best[..., None, None], axis=-2)[..., 0, :]
        vec /= np.sqrt(np.take_along_axis(sq, best[..., None], axis=-1))
        curvature = lam / (3 * q)
    return vec, curvature


def surface_normals(points: np.ndarray, valid: np.ndarray, radius: int = 3,
                    min_fraction: float = 0.5) -> Tuple[np.ndarray, np.ndarray]:
    """Unit normals (H, W, 3) of planes fitted to each pixel's (2r+1)² neighbourhood,
    and the fits' curvature (H, W): smallest eigenvalue / trace of the points'
    covariance (0 on a plane, larger across edges and on clutter).

    Only ``valid`` points enter the fits; a pixel whose window holds fewer than
    ``min_fraction`` valid points gets NaN. Normals point towards the camera.
    """
    mask = valid.astype(np.float64)
    centre = points[valid].mean(axis=0) if valid.any() else np.zeros(3)
    p = (points - centre) * mask[..., None]
    x, y, z = p[..., 0], p[..., 1], p[..., 2]
    moments = np.empty(points.shape[:2] + (10, ))
    for k, value in enumerate((mask, x, y, z, x * x, x * y, x * z, y * y, y * z, z * z)):
        moments[..., k] = value
    sums = _box_sum(moments, radius)
    count = sums[..., 0]
    enough = count >= min_fraction * (2 * radius + 1) ** 2
    inv = 1.0 / np.where(enough, count, 1.0)
    mx, my, mz = sums[..., 1] * inv, sums[..., 2] * inv, sums[..., 3] * inv
    normals, curvature = _smallest_eigenvectors(
        sums[..., 4] * inv - mx * mx, sums[..., 5] * inv - mx * my,
        sums[..., 6] * inv - mx * mz, sums[..., 7] * inv - my * my,
        sums[..., 8] * inv - my * mz, sums[..., 9] * inv - mz * mz)
    flip = np.einsum('...i,...i->...', normals, points) > 0  # face the camera
    normals[flip] *= -1
    undefined = ~(enough & valid)
    normals[undefined] = np.nan
    curvature[undefined] = np.nan
    return normals, curvature


def estimate_up(normals: np.ndarray, initial: Sequence[float] = (0.0, -1.0, 0.0),
                thresholds_deg: Sequence[float] = (45.0, 15.0),
                iterations: int = 5) -> np.ndarray:
    """Gravity "up" (3,) in camera coordinates from surface normals (Gupta et al.).

    ``normals``: (..., 3) with NaN where undefined. Each round (``iterations`` per
    threshold, as in the authors' code) keeps normals within the threshold of being
    parallel (floor/ceiling) or perpendicular (walls) to the current estimate and solves
    for the direction best aligned with the former and orthogonal to the latter. The
    estimate keeps the sign of ``initial`` (camera -y: up in the image).
    """
    n = normals.reshape(-1, 3)
    n = n[np.isfinite(n).all(axis=1)]
    outer = (n[:, :, None] * n[:, None, :]).reshape(-1, 9)  # n nᵀ per normal
    up = np.asarray(initial, np.float64)
    up = up / np.linalg.norm(up)
    for threshold in thresholds_deg:
        t = np.deg2rad(threshold)
        for _ in range(iterations):
            cos = np.abs(n @ up)
            weight = (cos < np.sin(t)).astype(np.float64) - (cos > np.cos(t))
            if np.count_nonzero(weight) < 3:
                return up
            _, vecs = np.linalg.eigh((weight @ outer).reshape(3, 3))
            new = vecs[:, 0] if vecs[:, 0] @ up >= 0 else -vecs[:, 0]
            converged = new @ up > np.cos(np.deg2rad(1e-3))
            up = new
            if converged:
                break
    return up


def compute_hha_channels(depth: np.ndarray, intrinsics: CameraIntrinsics,
                         up: Optional[Sequence[float]] = None, radius: int = 3,
                         fill_holes: bool = True) -> HHAChannels:
    """Disparity, height and normal angle of a (H, W) depth map in metres (0 = hole).

    Args:
        up: known gravity-up vector in camera coordinates; ``None``: estimated.
        radius: half size of the normal-fitting window in pixels.
        fill_holes: holes take the nearest valid depth for disparity, height and normals
            (gravity and the ground level are estimated from measured pixels only);
            ``False``: holes get NaN / 0.
    """
    depth = np.asarray(depth)
    if depth.ndim != 2:
        raise ValueError(f'depth must be (H, W), got shape {depth.shape}')
    valid = np.isfinite(depth) & (depth > 0)
    if not valid.any():
        raise ValueError('depth map has no valid (positive) value: HHA is undefined')
    z = np.where(valid, depth, 0).astype(np.float64)
    if fill_holes and not valid.all():
        from scipy import ndimage
        _, (rows, cols) = ndimage.distance_transform_edt(~valid, return_indices=True)
        z = z[rows, cols]
    have = valid if not fill_holes else np.ones_like(valid)
    points = backproject(z, intrinsics)
    normals, curvature = surface_normals(points, have, radius)
    if up is None:
        # From measured pixels whose fit is flatter than the median (drops normals
        # straddling edges), every 2nd pixel in each direction (4x faster).
        n, c = normals[::2, ::2][valid[::2, ::2]], curvature[::2, ::2][valid[::2, ::2]]
        flat = c <= np.nanmedian(c) if np.isfinite(c).any() else np.zeros(len(c), bool)
        up_vec = estimate_up(n[flat])
    else:
        up_vec = np.asarray(up, np.float64)
        up_vec = up_vec / np.linalg.norm(up_vec)
    elevation = points @ up_vec  # metres above the camera along up
    lowest = float(np.min(elevation[valid]))
    if lowest > -MIN_CAMERA_HEIGHT:
        lowest = -DEFAULT_CAMERA_HEIGHT
    height = np.where(have, elevation - lowest, 0)
    with np.errstate(invalid='ignore'):
        angle = np.degrees(np.arccos(np.clip(normals @ up_vec, -1, 1)))
        disparity = np.where(have, DISPARITY_SCALE / np.maximum(z, MIN_DISPARITY_DEPTH),
                             0)
    return HHAChannels(disparity.astype(np.float32), height.astype(np.float32),
                       angle.astype(np.float32), up_vec, valid)


def encode_hha(channels: HHAChannels) -> np.ndarray:
    """(H, W, 3) uint8 (disparity, height in cm, angle + 38), rounded and clipped.

    Pixels without a normal (angle NaN) get 0 in the angle channel."""
    angle = np.nan_to_num(channels.angle + ANGLE_OFFSET, nan=0.0)
    stacked = np.stack([channels.disparity, channels.height * 100.0, angle], axis=-1)
    return np.clip(np.rint(stacked), 0, 255).astype(np.uint8)


def depth_to_hha(depth: np.ndarray, intrinsics: CameraIntrinsics,
                 up: Optional[Sequence[float]] = None, radius: int = 3,
                 fill_holes: bool = True) -> np.ndarray:
    """(H, W) depth in metres -> (H, W, 3) uint8 HHA (see
    :func:`compute_hha_channels`)."""
    return encode_hha(compute_hha_channels(depth, intrinsics, up, radius, fill_holes))


def intrinsics_for(dataset: str, size: Tuple[int, int]) -> Tuple[CameraIntrinsics, str]:
    """Built-in intrinsics for a frame of ``size`` (W, H) of ``dataset``, and a note.

    NYUDv2: the Kinect intrinsics, shifted for a centred crop if the frame is smaller
    than 640×480 (e.g. 625×468 of the light-weight RefineNet release; the crop is the
    one ``conversion.py`` applies: ``(640 - W) // 2`` columns, ``(480 - H) // 2`` rows).
    SUN RGB-D: by sensor, from the frame size. ValueError for other sizes/datasets.
    """
    w, h = size
    if dataset == 'nyudv2':
        fw, fh = NYUDV2_SIZE
        if w > fw or h > fh:
            raise ValueError(f'NYUDv2 frame of {w}x{h} is larger than the Kinect frame '
                             f'{fw}x{fh}: pass --intrinsics fx fy cx cy')
        if (w, h) == (fw, fh):
            return NYUDV2_INTRINSICS, 'NYUDv2 Kinect intrinsics'
        left, top = (fw - w) // 2, (fh - h) // 2
        return (NYUDV2_INTRINSICS.cropped(left, top),
                f'NYUDv2 Kinect intrinsics shifted for a centred crop to {w}x{h}')
    if dataset == 'sunrgbd':
        if (w, h) not in SUNRGBD_INTRINSICS_BY_SIZE:
            raise ValueError(
                f'no built-in SUN RGB-D intrinsics for a {w}x{h} frame (known sizes: '
                f'{sorted(SUNRGBD_INTRINSICS_BY_SIZE)}): convert with '
                'sunrgbd_official.py (records camera.json) or pass --intrinsics')
        return (SUNRGBD_INTRINSICS_BY_SIZE[(w, h)],
                f'SUN RGB-D sensor intrinsics for {w}x{h} frames')
    raise ValueError(f'no built-in intrinsics for dataset {dataset!r} (known: nyudv2, '
                     'sunrgbd): pass --intrinsics fx fy cx cy')
