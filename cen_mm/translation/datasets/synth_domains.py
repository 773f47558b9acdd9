"""Procedural multi-domain scenes for the CPU demo and the tests (no files needed).

Every seed gives one pixel-aligned scene rendered in the Taskonomy domains used by the
papers, all as (S, S, 3) uint8 RGB images:

* a tilted background plane plus 2–4 objects (bulging ellipses or tilted boxes), each with
  a colour and a stripe/checker texture;
* ``depth_zbuffer``: z-buffer depth mapped from [1, 7] to [0, 255];
* ``normal``: surface normals from the depth gradient, (n + 1)/2 · 255;
* ``reshading``: Lambertian shading n·l under a random light;
* ``rgb``: albedo · (0.25 + 0.75 · shading);
* ``edge_occlusion``: depth discontinuities; ``edge_texture``: colour edges of ``rgb``.

So each input domain carries different, partly complementary information about the
others (shading and edges know the geometry, rgb the albedo), as in Taskonomy.
"""
from typing import Dict, Sequence

import numpy as np

SYNTH_DOMAINS = ('rgb', 'depth_zbuffer', 'normal', 'reshading', 'edge_occlusion',
                 'edge_texture')


def _to_uint8(x: np.ndarray) -> np.ndarray:
    x = np.clip(x * 255.0, 0, 255).round().astype(np.uint8)
    return np.repeat(x[..., None], 3, axis=2) if x.ndim == 2 else x


def _edges(field: np.ndarray) -> np.ndarray:
    """Gradient magnitude (central differences) of an (S, S[, C]) field, summed over C."""
    gy, gx = np.gradient(field, axis=(0, 1))
    mag = np.sqrt(gx**2 + gy**2)
    return mag.sum(axis=2) if mag.ndim == 3 else mag


def render_synth_domains(seed: int, size: int,
                         domains: Sequence[str] = SYNTH_DOMAINS) -> Dict[str, np.ndarray]:
    """Render scene ``seed`` at ``size`` × ``size`` in ``domains`` (uint8, (S, S, 3))."""
    unknown = [d for d in domains if d not in SYNTH_DOMAINS]
    if unknown:
        raise ValueError(f'synthetic scenes have no domain(s) {unknown}; available: '
                         f'{list(SYNTH_DOMAINS)}')
    if size < 8:
        raise ValueError(f'size must be >= 8, got {size}')
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64) / (size - 1)

    def texture(base_color):
        kind = rng.integers(3)
        freq = rng.uniform(3, 9)
        angle = rng.uniform(0, np.pi)
        u = xx * np.cos(angle) + yy * np.sin(angle)
        if kind == 0:
            pattern = 0.5 + 0.5 * (np.sin(2 * np.pi * freq * u) > 0)
        elif kind == 1:
            pattern = 0.6 + 0.4 * ((np.floor(xx * freq) + np.floor(yy * freq)) % 2)
        else:
            pattern = np.ones_like(xx)
        return base_color[None, None, :] * pattern[..., None]

    depth = 5.0 + rng.uniform(0.5, 1.5) * (0.5 - yy) + rng.uniform(-0.5, 0.5) * (xx - 0.5)
    albedo = texture(rng.uniform(0.3, 0.9, 3))
    for _ in range(int(rng.integers(2, 5))):
        cx, cy = rng.uniform(0.15, 0.85, 2)
        rx, ry = rng.uniform(0.08, 0.3, 2)
        base = rng.uniform(2.0, 4.0)
        if rng.random() < 0.5:  # bulging ellipse
            q = ((xx - cx) / rx)**2 + ((yy - cy) / ry)**2
            inside = q < 1
            z = base - rng.uniform(0.3, 1.0) * np.sqrt(np.clip(1 - q, 0, 1))
        else:  # tilted box face
            inside = (np.abs(xx - cx) < rx) & (np.abs(yy - cy) < ry)
            slope_x, slope_y = rng.uniform(-1.5, 1.5, 2)
            z = base + slope_x * (xx - cx) + slope_y * (yy - cy)
        closer = inside & (z < depth)
        depth = np.where(closer, z, depth)
        albedo = np.where(closer[..., None], texture(rng.uniform(0.1, 1.0, 3)), albedo)

    # normals from the depth gradient (slopes in depth units per quarter image width)
    gy, gx = np.gradient(depth, axis=(0, 1))
    gx, gy = gx * (size - 1) / 4.0, gy * (size - 1) / 4.0
    normal = np.stack([-gx, -gy, np.ones_like(depth)], axis=2)
    normal /= np.linalg.norm(normal, axis=2, keepdims=True)
    light = np.array([*(rng.uniform(0.4, 1.2, 2) * rng.choice([-1, 1], 2)), 1.0])
    light /= np.linalg.norm(light)
    shading = np.clip(normal @ light, 0, 1)
    rgb = albedo * (0.25 + 0.75 * shading[..., None])

    out = {}
    for domain in domains:
        if domain == 'rgb':
            out[domain] = _to_uint8(rgb)
        elif domain == 'depth_zbuffer':
            out[domain] = _to_uint8((depth - 1.0) / 6.0)
        elif domain == 'normal':
            out[domain] = _to_uint8((normal + 1) / 2)
        elif domain == 'reshading':
            out[domain] = _to_uint8(shading)
        elif domain == 'edge_occlusion':
            out[domain] = _to_uint8(np.clip(_edges(depth) * size / 8.0, 0, 1))
        else:  # edge_texture
            out[domain] = _to_uint8(np.clip(_edges(rgb) * size / 6.0, 0, 1))
    return out
