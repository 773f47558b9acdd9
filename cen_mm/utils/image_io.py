"""Writing pictures atomically (scope-neutral: used by the seg and translation sides)."""
import os
import os.path as osp
import tempfile

import cv2
import numpy as np


def write_rgb_image(rgb: np.ndarray, path: str) -> None:
    """Write an (H, W, 3) RGB uint8 picture to ``path`` (format from its extension,
    default PNG) atomically: a temporary file beside it, then a rename."""
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    ext = osp.splitext(path)[1] or '.png'
    ok, data = cv2.imencode(ext, cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    if not ok:
        raise ValueError(f'cannot encode a picture as {ext!r} for {path}')
    fd, tmp = tempfile.mkstemp(suffix=ext, dir=folder)
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(data.tobytes())
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise
