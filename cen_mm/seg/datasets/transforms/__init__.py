"""RGB-D transforms (mmseg TRANSFORMS): loading into one stacked image, RGB-only colour
jitter. Geometric transforms are mmseg's own (they keep the stacked channels aligned)."""
from .loading import LoadRGBDAnnotations, LoadRGBDFromFile
from .photometric import RGBOnlyPhotoMetricDistortion

__all__ = ['LoadRGBDFromFile', 'LoadRGBDAnnotations', 'RGBOnlyPhotoMetricDistortion']
