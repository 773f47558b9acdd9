"""NYUDv2 (40 classes) for RGB-D semantic segmentation.

Not mmseg's ``NYUDataset``, which is for depth *estimation*. Data: run
``python tools/dataset_converters/nyud.py SRC -o data/nyudv2`` (see its docstring for the
accepted download layouts); splits ``train`` (795) and ``test`` (654).
"""
from mmseg.registry import DATASETS
from .metainfo import NYUDV2_CLASSES, bit_interleaved_palette
from .rgbd_dataset import RGBDSegDataset


@DATASETS.register_module()
class NYUDv2Dataset(RGBDSegDataset):
    """NYUDv2, 40 classes (Gupta et al. 2013), label 255 ignored.

    Depth defaults to the CEN / light-weight RefineNet encoding (uint16, metres =
    value / 5000) unless ``depth_encoding`` or the converter's ``meta.json`` says
    otherwise. See :class:`RGBDSegDataset` for the layout and arguments.
    """
    METAINFO = dict(classes=NYUDV2_CLASSES,
                    palette=bit_interleaved_palette(len(NYUDV2_CLASSES)))
    DATASET_NAME = 'nyudv2'
    DEFAULT_DEPTH_ENCODING = dict(type='linear', scale=1 / 5000)
