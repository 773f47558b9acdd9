"""SUN RGB-D (37 classes) for RGB-D semantic segmentation.

Data: run ``python tools/dataset_converters/sunrgbd.py SRC -o data/sunrgbd``; splits
``train`` (5285) and ``test`` (5050).
"""
from mmseg.registry import DATASETS
from .metainfo import SUNRGBD_CLASSES, bit_interleaved_palette
from .rgbd_dataset import RGBDSegDataset


@DATASETS.register_module()
class SUNRGBDDataset(RGBDSegDataset):
    """SUN RGB-D, 37 classes (Song et al. 2015), label 255 ignored.

    Depth defaults to SUN RGB-D's own uint16 encoding (bits rotated by 3, millimetres)
    unless ``depth_encoding`` or the converter's ``meta.json`` says otherwise. See
    :class:`RGBDSegDataset` for the layout and arguments.
    """
    METAINFO = dict(classes=SUNRGBD_CLASSES,
                    palette=bit_interleaved_palette(len(SUNRGBD_CLASSES)))
    DATASET_NAME = 'sunrgbd'
    DEFAULT_DEPTH_ENCODING = dict(type='sunrgbd')
