"""``RGBDSegDataset``: mmseg's BaseSegDataset plus a depth (or HHA) file per sample.

Layout written by ``tools/dataset_converters/{nyud,sunrgbd}.py`` (and usable by hand)::

    data_root/
      images/{train,test}/NAME.png        RGB (8-bit, 3 channels)
      depth/{train,test}/NAME.png         depth, stored as described by meta.json
      hha/{train,test}/NAME.png           optional, 8-bit 3-channel HHA
      annotations/{train,test}/NAME.png   uint8 class ids 0..K-1, 255 = ignore
      train.txt, test.txt                 sample names (optional ``ann_file``)
      meta.json                           written last by the converter

Every sample gets, besides mmseg's keys, ``depth_path``, ``depth_encoding``,
``sample_name``, ``num_classes`` and ``ignore_index`` (read by ``LoadRGBDFromFile`` and
``LoadRGBDAnnotations``); the dataset's metainfo has ``modality_channels``.
"""
import json
import logging
import os.path as osp
from typing import List, Optional

import mmengine.fileio as fileio
from mmengine.logging import print_log

from cen_mm.engine.runner.errors import MissingDataError
from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS
from .depth_io import check_depth_encoding, decode_depth, implausible_depth_message
from .transforms.loading import DEPTH_TYPES

META_FILE = 'meta.json'


def read_conversion_meta(data_root: Optional[str]) -> Optional[dict]:
    """The converter's ``meta.json`` in ``data_root`` (None if there is none)."""
    if not data_root or not osp.isfile(osp.join(data_root, META_FILE)):
        return None
    path = osp.join(data_root, META_FILE)
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as err:
        raise ValueError(f'{path} is not a readable JSON file: {err}') from None


@DATASETS.register_module()
class RGBDSegDataset(BaseSegDataset):
    """Semantic segmentation with RGB + depth (or HHA) per sample.

    Args:
        depth_type: ``'depth'`` or ``'hha'``: which extra modality ``depth_path`` points
            to (its files live under ``data_prefix['depth_path']``). Sets the metainfo
            ``modality_channels`` to ``(3, 1)`` or ``(3, 3)``.
        depth_encoding: how stored depth maps to metres (see ``depth_io``). ``None``:
            the converter's ``meta.json`` in ``data_root`` if present, else the class
            default ``DEFAULT_DEPTH_ENCODING``.
        depth_suffix: suffix of the depth/HHA files.
        **kwargs: :class:`mmseg.datasets.BaseSegDataset` arguments; ``data_prefix`` needs
            ``img_path``, ``depth_path`` and ``seg_map_path``.

    A sample whose depth or label file is missing raises ``FileNotFoundError`` naming the
    sample when the dataset is built; an empty split raises ``ValueError``.
    """
    METAINFO: dict = dict()
    DATASET_NAME: Optional[str] = None  # must match meta.json's 'dataset' if set
    DEFAULT_DEPTH_ENCODING: Optional[dict] = None

    def __init__(self,
                 depth_type: str = 'depth',
                 depth_encoding: Optional[dict] = None,
                 depth_suffix: str = '.png',
                 img_suffix: str = '.png',
                 seg_map_suffix: str = '.png',
                 data_prefix: dict = dict(
                     img_path='images/train', depth_path='depth/train',
                     seg_map_path='annotations/train'),
                 **kwargs) -> None:
        if depth_type not in DEPTH_TYPES:
            raise ValueError(
                f'depth_type must be one of {DEPTH_TYPES}, got {depth_type!r}')
        if 'depth_path' not in data_prefix:
            raise KeyError(f"{type(self).__name__}: data_prefix needs a 'depth_path' "
                           f'entry (the depth/HHA folder), got {data_prefix}')
        self.depth_type = depth_type
        self.depth_suffix = depth_suffix
        self._conversion_meta = read_conversion_meta(kwargs.get('data_root'))
        self.depth_encoding = self._resolve_depth_encoding(depth_encoding)
        super().__init__(img_suffix=img_suffix, seg_map_suffix=seg_map_suffix,
                         data_prefix=data_prefix, **kwargs)
        self._metainfo['modality_channels'] = (3, 1 if depth_type == 'depth' else 3)

    def _resolve_depth_encoding(self, depth_encoding: Optional[dict]) -> Optional[dict]:
        meta = self._conversion_meta
        if meta is not None:
            expected = self.DATASET_NAME
            if expected and meta.get('dataset') not in (None, expected):
                raise ValueError(
                    f"{type(self).__name__}: data_root holds a converted "
                    f"{meta.get('dataset')!r} dataset (meta.json), not {expected!r}")
        if depth_encoding is not None:
            return check_depth_encoding(depth_encoding)
        if meta is not None and meta.get('depth_encoding') is not None:
            return check_depth_encoding(meta['depth_encoding'],
                                        'meta.json depth_encoding')
        if self.DEFAULT_DEPTH_ENCODING is not None:
            return dict(self.DEFAULT_DEPTH_ENCODING)
        return None

    def _stored_num_classes(self) -> Optional[int]:
        """Number of classes of the label values on disk (before a custom label_map)."""
        classes = type(self).METAINFO.get('classes') or self._metainfo.get('classes')
        return len(classes) if classes else None

    def _check_data_root(self) -> None:
        """A clear error if the data is not there (instead of ``os.scandir``'s)."""
        img_dir = self.data_prefix['img_path']
        if self.ann_file and not osp.isfile(self.ann_file) or '://' in str(img_dir):
            return  # mmseg reports a missing ann_file itself; remote storage: skip
        if osp.isdir(img_dir):
            return
        root = self.data_root
        missing = (f'data_root {root!r} does not exist' if root and not osp.isdir(root)
                   else f'its image folder {img_dir} does not exist')
        raise MissingDataError(
            f'{type(self).__name__}: {missing}. Convert the dataset into it first '
            '(tools/dataset_converters/nyud.py or sunrgbd.py SRC -o DATA_ROOT), or '
            'point the config at the converted folder: --cfg-options data_root=PATH.')

    def load_data_list(self) -> List[dict]:
        self._check_data_root()
        data_list = super().load_data_list()
        img_dir = self.data_prefix['img_path']
        depth_dir = self.data_prefix['depth_path']
        if not data_list:
            source = self.ann_file or img_dir
            raise ValueError(f'{type(self).__name__}: no samples in {source} '
                             f'(images with suffix {self.img_suffix!r} under {img_dir})')
        num_classes = self._stored_num_classes()
        for info in data_list:
            rel = osp.relpath(info['img_path'], img_dir)
            name = rel[:-len(self.img_suffix)] if self.img_suffix else rel
            info['sample_name'] = name
            info['depth_path'] = osp.join(depth_dir, name + self.depth_suffix)
            info['depth_type'] = self.depth_type
            info['depth_encoding'] = self.depth_encoding
            info['num_classes'] = num_classes
            info['ignore_index'] = self.ignore_index
            for key, what in (('img_path', 'RGB'), ('depth_path', self.depth_type),
                              ('seg_map_path', 'label')):
                if key in info and not fileio.exists(info[key],
                                                     backend_args=self.backend_args):
                    raise FileNotFoundError(
                        f"{type(self).__name__} sample '{name}': {what} file "
                        f'{info[key]} not found')
        self._check_depth_plausible(data_list)
        return data_list

    def _check_depth_plausible(self, data_list: List[dict], samples: int = 5) -> None:
        """Warn loudly if the decoded depth of a few samples has an implausible median
        (a wrong ``depth_encoding``: e.g. millimetres read at 1/5000)."""
        if self.depth_type != 'depth' or self.depth_encoding is None:
            return
        import cv2
        import numpy as np
        step = max(1, len(data_list) // samples)
        medians = []
        for info in data_list[::step][:samples]:
            if '://' in info['depth_path']:
                return
            raw = cv2.imread(info['depth_path'], cv2.IMREAD_UNCHANGED)
            if raw is None or raw.ndim != 2 or raw.dtype != np.uint16:
                return  # 8-bit relative depth, or an error the loader reports
            metres = decode_depth(raw, self.depth_encoding)
            valid = metres[metres > 0]
            if valid.size:
                medians.append(float(np.median(valid)))
        if not medians:
            return
        message = implausible_depth_message(
            float(np.median(medians)), self.depth_encoding,
            f'{type(self).__name__} ({self.data_prefix["depth_path"]})')
        if message:
            print_log('WARNING: ' + message, logger='current', level=logging.WARNING)
