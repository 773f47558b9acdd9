"""Procedural RGB-D scenes where colour and depth carry *different* information.

Each scene is a tilted background plane with 3-5 non-overlapping objects of 4 classes:

=====  ============  ===========================  =================================
id     name          colour (albedo)              depth
=====  ============  ===========================  =================================
0      background    grey                         tilted plane, 2.5-3.5 m
1      red box       red                          flat rectangle 0.35-0.7 m in front
2      blue box      blue                         *same as red box*
3      green bump    green                        dome 0.35-0.7 m towards the camera
4      green dent    *same as green bump*         dome 0.35-0.7 m away from it
=====  ============  ===========================  =================================

* Classes 1 and 2 differ **only in colour**: their shape and depth are drawn from the
  same distribution, so a depth-only model cannot separate them.
* Classes 3 and 4 differ **only in depth**: same albedo and disk shape, and the RGB
  image has no shape-dependent shading, so an RGB-only model cannot separate them.

Nuisances: RGB gets a random global gain, an illumination gradient, a colour cast and
pixel noise; depth gets depth-dependent noise (Kinect-like, ~2-3 cm at 3 m) and holes
(value 0): random dropout blobs, speckle and "shadows" at depth discontinuities.

Everything is a pure function of a ``numpy.random.Generator`` (no files, no global
state), so ``render_scene(np.random.default_rng([seed, split, index]), size)`` always
yields the same scene.
"""
from typing import Tuple

import numpy as np

SYNTH_CLASSES = ('background', 'red box', 'blue box', 'green bump', 'green dent')
COLOUR_ONLY_PAIR = (1, 2)  # same depth distribution, different colour
DEPTH_ONLY_PAIR = (3, 4)  # same colour distribution, different depth
BOX_CLASSES = (1, 2)
DOME_CLASSES = {3: -1.0, 4: +1.0}  # sign of the depth change (bump: closer)
ALBEDO = {
    1: (0.78, 0.16, 0.12),
    2: (0.14, 0.22, 0.78),
    3: (0.20, 0.62, 0.22),
    4: (0.20, 0.62, 0.22),
}
SYNTH_PALETTE = [[128, 128, 128], [220, 40, 30], [40, 60, 220], [60, 200, 60],
                 [20, 110, 30]]


def _place(rng: np.random.Generator, half: np.ndarray, size: int, placed: list):
    """Random centre (cx, cy) for an object of half extents (hx, hy), or None."""
    for _ in range(20):
        cx = rng.uniform(half[0], size - 1 - half[0])
        cy = rng.uniform(half[1], size - 1 - half[1])
        box = (cx - half[0] - 1, cy - half[1] - 1, cx + half[0] + 1, cy + half[1] + 1)
        if all(box[2] < b[0] or b[2] < box[0] or box[3] < b[1] or b[3] < box[1]
               for b in placed):
            placed.append(box)
            return cx, cy
    return None


def render_scene(rng: np.random.Generator,
                 size: int = 64) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Render one scene.

    Returns:
        rgb: (size, size, 3) uint8, RGB order.
        depth: (size, size) float32 metres, 0 = hole.
        label: (size, size) uint8 class ids (see :data:`SYNTH_CLASSES`).
    """
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
    u, v = xx / (size - 1) - 0.5, yy / (size - 1) - 0.5

    # Background: tilted plane, grey albedo with a slight tint.
    z0 = rng.uniform(2.5, 3.5)
    tilt = rng.uniform(-0.6, 0.6, 2)
    depth = z0 + tilt[0] * u + tilt[1] * v
    albedo = np.empty((size, size, 3))
    albedo[:] = rng.uniform(0.42, 0.58) + rng.uniform(-0.04, 0.04, 3)
    label = np.zeros((size, size), np.uint8)

    placed: list = []
    for cls in rng.integers(1, 5, rng.integers(3, 6)):
        cls = int(cls)
        if cls in BOX_CLASSES:
            half = rng.uniform(0.1, 0.2, 2) * size
        else:
            half = np.full(2, rng.uniform(0.1, 0.2) * size)
        centre = _place(rng, half, size, placed)
        if centre is None:
            continue
        cx, cy = centre
        height = rng.uniform(0.35, 0.7)
        if cls in BOX_CLASSES:
            mask = (np.abs(xx - cx) <= half[0]) & (np.abs(yy - cy) <= half[1])
            centre_depth = z0 + tilt[0] * (cx / (size - 1) - 0.5) + tilt[1] * (
                cy / (size - 1) - 0.5)
            depth[mask] = centre_depth - height
        else:
            d2 = ((xx - cx)**2 + (yy - cy)**2) / half[0]**2
            mask = d2 <= 1
            depth[mask] += DOME_CLASSES[cls] * height * np.sqrt(1 - d2[mask])
        albedo[mask] = np.asarray(ALBEDO[cls]) + rng.uniform(-0.05, 0.05, 3)
        label[mask] = cls

    # RGB: albedo x illumination (gain + gradient) x colour cast + noise. No shading
    # from the geometry, so colour carries no depth information.
    gain = rng.uniform(0.45, 1.35)
    angle, strength = rng.uniform(0, 2 * np.pi), rng.uniform(0, 0.7)
    illumination = gain * (1 + strength * (np.cos(angle) * u + np.sin(angle) * v))
    cast = rng.uniform(0.9, 1.1, 3)
    rgb = albedo * illumination[..., None] * cast + rng.normal(0, 0.02, albedo.shape)
    rgb = np.clip(np.rint(rgb * 255), 0, 255).astype(np.uint8)

    # Depth: noise growing with distance, then holes.
    grad_y, grad_x = np.gradient(depth)
    edges = np.hypot(grad_x, grad_y) > 0.1
    noisy = depth + rng.normal(0, 1, depth.shape) * (0.004 + 0.0025 * depth**2)
    holes = edges & (rng.random(depth.shape) < 0.6)
    for _ in range(rng.integers(0, 3)):
        r = rng.uniform(0.04, 0.12, 2) * size
        c = rng.uniform(0, size - 1, 2)
        holes |= ((xx - c[0]) / r[0])**2 + ((yy - c[1]) / r[1])**2 <= 1
    holes |= rng.random(depth.shape) < 0.02
    noisy[holes] = 0
    return rgb, noisy.astype(np.float32), label
