"""Photometric distortion of the RGB channels of a stacked RGB-D image only."""
import numpy as np

from mmseg.datasets.transforms import PhotoMetricDistortion
from mmseg.registry import TRANSFORMS


@TRANSFORMS.register_module()
class RGBOnlyPhotoMetricDistortion(PhotoMetricDistortion):
    """mmseg's ``PhotoMetricDistortion`` applied to channels 0..2 (RGB) of ``img`` only.

    The stock transform assumes a 3-channel uint8 BGR image: on a stacked H x W x (3+Cd)
    float image it would distort depth as if it were colour (or fail in the HSV
    conversion). Here the RGB slice is rounded to uint8, put into BGR order (so the
    stock brightness / contrast / saturation / hue steps see what they expect), distorted
    by the parent's ``transform`` and written back; the other channels are left
    bit-identical. Same arguments as ``PhotoMetricDistortion``.

    Required keys: ``img`` (H, W, C >= 3, RGB first). Modified keys: ``img`` (a new array;
    the input array is not changed in place).
    """

    def transform(self, results: dict) -> dict:
        img = results['img']
        if img.ndim != 3 or img.shape[2] < 3:
            raise ValueError('RGBOnlyPhotoMetricDistortion needs an (H, W, C>=3) image '
                             f'with RGB first, got shape {img.shape}')
        channels = results.get('modality_channels')
        if channels is not None and channels[0] != 3:
            raise ValueError('RGBOnlyPhotoMetricDistortion expects the first modality '
                             f'to be RGB (3 channels), got modality_channels={channels}')
        bgr = np.clip(np.rint(img[..., 2::-1]), 0, 255).astype(np.uint8)
        distorted = super().transform(dict(img=bgr))['img']
        rgb = distorted[..., ::-1].astype(img.dtype)
        results['img'] = np.concatenate([rgb, img[..., 3:]], axis=2)
        return results
