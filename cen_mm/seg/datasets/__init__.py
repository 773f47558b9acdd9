"""RGB-D segmentation data for mmseg (DATASETS / TRANSFORMS registries).

Datasets: ``NYUDv2Dataset`` (40 classes), ``SUNRGBDDataset`` (37 classes), the generic
``RGBDSegDataset`` and the procedural demo set ``SynthRGBDDataset``. Transforms:
``LoadRGBDFromFile``, ``LoadRGBDAnnotations``, ``RGBOnlyPhotoMetricDistortion``.
Converters for the downloads live in ``conversion.py`` (used by
``tools/dataset_converters/``).
"""
from .depth_io import decode_depth, fill_depth_holes
from .metainfo import NYUDV2_CLASSES, SUNRGBD_CLASSES, bit_interleaved_palette
from .nyudv2 import NYUDv2Dataset
from .rgbd_dataset import RGBDSegDataset
from .sunrgbd import SUNRGBDDataset
from .synth_rgbd import SynthRGBDDataset
from .transforms import (LoadRGBDAnnotations, LoadRGBDFromFile,
                         RGBOnlyPhotoMetricDistortion)

__all__ = [
    'RGBDSegDataset', 'NYUDv2Dataset', 'SUNRGBDDataset', 'SynthRGBDDataset',
    'LoadRGBDFromFile', 'LoadRGBDAnnotations', 'RGBOnlyPhotoMetricDistortion',
    'NYUDV2_CLASSES', 'SUNRGBD_CLASSES', 'bit_interleaved_palette', 'decode_depth',
    'fill_depth_holes'
]
