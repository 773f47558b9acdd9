"""The official CEN FID/KID input protocol: stretch, render through matplotlib, read back.

The papers' FID/KID columns (NeurIPS'20 Table 4/5, TPAMI'23 Tables 4–9) come from the
official evaluation (``image2image_translation/main.py`` + ``utils/utils.py`` +
``utils/fid_kid.py`` of yikaiw/CEN), which never feeds the network outputs to Inception
directly. For every generated image, and for every real target image, it

1. min–max stretches the image over all its pixels and channels,
   ``((t - min)·255) / (max - min)`` in float32 on the [-1, 1] tensor, truncated to
   uint8 (a real image whose values span 10..240 becomes 0..255; float32 rounding
   turns some exact integers down by one — reproduced here bit for bit for real images);
2. shows it with matplotlib (``imshow``, axes filling a 5 × 5 inch figure, axis off) and
   saves the figure at 100 dpi: a **500 × 500 px** RGBA PNG, i.e. the 256 px image is
   resampled by matplotlib;
3. reads the PNG back, keeps RGB, divides by 255 and feeds it to pytorch-fid's
   Inception (pool3), which resizes to 299 bilinearly and scales to [-1, 1].

This module does steps 1–2 in memory — the pixels of the drawn figure, equal to those
of the lossless PNG (:func:`render_png`, checked by the tests) — and returns the images in the 0..255 range mmagic's ``forward_inception`` expects, so step 3
is mmagic's own 'PyTorch'-style feature extraction (``(x - 127.5) / 127.5`` equals
pytorch-fid's ``2·(x / 255) - 1``).

Resampling: the official environment (python 3.6, pytorch 1.0.0, scipy 1.1.0 — needed
for ``scipy.misc.imread`` —, numpy 1.16.2) dates from early 2019, when matplotlib's
default ``imshow`` interpolation was ``'nearest'`` (the default became
``'antialiased'``, a Hanning filter at this zoom, in matplotlib 3.2, 2020). Hence
``interpolation='nearest'`` by default; pass ``'antialiased'`` for the newer default.
A constant image (max = min; the official code divides by zero there) renders black.
"""
import io
from typing import Tuple

import numpy as np
import torch
from PIL import Image

OFFICIAL_RENDER_SIZE = 500  # 5 inch × 100 dpi
_DPI = 100
RENDER_INTERPOLATIONS = ('nearest', 'antialiased')


def to_official_range(image: np.ndarray) -> np.ndarray:
    """0..255 values -> the float32 [-1, 1] tensor values the official code stretches
    (torchvision ``ToTensor`` + ``Normalize(0.5, 0.5)``: ``(v / 255 - 0.5) / 0.5``)."""
    values = np.asarray(image, dtype=np.float32)
    return (values / np.float32(255) - np.float32(0.5)) / np.float32(0.5)


def stretch_min_max(image: np.ndarray) -> np.ndarray:
    """Min–max stretch over the whole image (all channels) to uint8, truncating, in
    float32 with the official operation order ``((v - min)·255) / (max - min)``.

    Args:
        image: (H, W, C) array, e.g. from :func:`to_official_range`.

    Returns:
        (H, W, C) uint8; all zeros if the image is constant.
    """
    values = np.asarray(image, dtype=np.float32)
    lo, hi = values.min(), values.max()
    if not hi > lo:
        return np.zeros(values.shape, np.uint8)
    return (((values - lo) * np.float32(255)) / (hi - lo)).astype(np.uint8)


def _draw(image: np.ndarray, size: int, interpolation: str):
    """An Agg canvas with ``image`` shown on axes filling a ``size`` px square figure
    (no axis, no margins), drawn."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    if interpolation not in RENDER_INTERPOLATIONS:
        raise ValueError(f'interpolation must be one of {RENDER_INTERPOLATIONS}, got '
                         f'{interpolation!r}')
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError('expected an (H, W, 3) uint8 RGB image, got '
                         f'{image.dtype} {image.shape}')
    fig = Figure(figsize=(size / _DPI, size / _DPI), dpi=_DPI)
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.axis('off')
    ax.imshow(image, aspect='equal', interpolation=interpolation)
    canvas.draw()
    return fig, canvas


def render_png(image: np.ndarray, size: int = OFFICIAL_RENDER_SIZE,
               interpolation: str = 'nearest') -> bytes:
    """The PNG matplotlib writes for an (H, W, 3) uint8 RGB image shown on axes filling
    a ``size`` px square figure (RGBA, size × size), as the official evaluation saves."""
    fig, _ = _draw(image, size, interpolation)
    buffer = io.BytesIO()
    fig.savefig(buffer, format='png', dpi=_DPI)
    return buffer.getvalue()


def render_rgb(image: np.ndarray, size: int = OFFICIAL_RENDER_SIZE,
               interpolation: str = 'nearest') -> np.ndarray:
    """The pixels of :func:`render_png` without encoding and decoding the (lossless)
    PNG: (size, size, 3) uint8, 2–3× faster."""
    _, canvas = _draw(image, size, interpolation)
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


def official_protocol_image(image: np.ndarray, size: int = OFFICIAL_RENDER_SIZE,
                            interpolation: str = 'nearest') -> np.ndarray:
    """Steps 1–2 for one (H, W, 3) RGB image in 0..255 -> (size, size, 3) uint8."""
    return render_rgb(stretch_min_max(to_official_range(image)), size, interpolation)


def official_protocol_batch(images: torch.Tensor, size: int = OFFICIAL_RENDER_SIZE,
                            interpolation: str = 'nearest',
                            channel_order: Tuple[int, ...] = (2, 1, 0)) -> torch.Tensor:
    """Apply :func:`official_protocol_image` to a batch of mmagic images.

    Args:
        images: (N, 3, H, W) tensor in 0..255, BGR (mmagic's order).
        channel_order: permutation from the tensor's order to RGB for rendering (and
            back); the stretch is order-independent, the rendering per channel.

    Returns:
        (N, 3, size, size) float32 tensor in 0..255, same channel order and device.
    """
    if images.ndim != 4 or images.shape[1] != 3:
        raise ValueError(f'expected (N, 3, H, W) images, got {tuple(images.shape)}')
    order = list(channel_order)
    inverse = list(np.argsort(order))
    arrays = images.detach().to('cpu', torch.float32).numpy()
    out = [
        official_protocol_image(a[order].transpose(1, 2, 0), size,
                                interpolation).transpose(2, 0, 1)[inverse]
        for a in arrays
    ]
    return torch.from_numpy(np.stack(out).astype(np.float32)).to(images.device)
