"""RGB-D transforms (mmseg TRANSFORMS): loading into one stacked image, resizing with
one interpolation per modality, RGB-only colour jitter. The other geometric transforms
are mmseg's own (they keep the stacked channels aligned)."""
from .loading import LoadRGBDAnnotations, LoadRGBDFromFile
from .photometric import RGBOnlyPhotoMetricDistortion
from .resize import ModalityResize

__all__ = [
    'LoadRGBDFromFile', 'LoadRGBDAnnotations', 'ModalityResize',
    'RGBOnlyPhotoMetricDistortion'
]
