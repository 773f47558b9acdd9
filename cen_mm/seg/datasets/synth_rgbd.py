"""``SynthRGBDDataset``: the procedural RGB-D demo set (no files, no download).

Samples are rendered on access by :func:`synth_scenes.render_scene` from
``(seed, split, index)``, so the same arguments always give the same data. Each sample
enters the pipeline already loaded, with the keys ``LoadRGBDFromFile`` +
``LoadRGBDAnnotations`` produce for the real sets (``img`` float32 H x W x 4 = RGB 0..255
+ depth in metres, ``gt_seg_map``, ``modality_channels=(3, 1)``, ...), so the rest of the
pipeline (RandomFlip, RandomCrop, ..., PackSegInputs) and the data preprocessor are the
ones used for NYUDv2.
"""
from typing import List

import numpy as np

from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS
from .depth_io import check_hole_handling, fill_depth_holes
from .synth_scenes import SYNTH_CLASSES, SYNTH_PALETTE, render_scene

SPLIT_IDS = dict(train=0, val=1, test=2)


@DATASETS.register_module()
class SynthRGBDDataset(BaseSegDataset):
    """Procedural RGB-D scenes whose classes need colour *and* depth.

    See :mod:`cen_mm.seg.datasets.synth_scenes` for the classes and nuisances.

    Args:
        split: ``'train'``, ``'val'`` or ``'test'``: disjoint random streams.
        num_samples: dataset length.
        image_size: side of the square images (pixels).
        seed: base seed; sample ``i`` of ``split`` is rendered from
            ``np.random.default_rng([seed, SPLIT_IDS[split], i])``.
        hole_mode: ``'keep'`` (holes are 0) or ``'fill'`` (see ``fill_method``), as in
            ``LoadRGBDFromFile``.
        fill_method: ``'nearest'`` or ``'inpaint'``.
        **kwargs: ``BaseSegDataset`` arguments (``pipeline``, ``test_mode``, ...).
    """
    METAINFO = dict(classes=SYNTH_CLASSES, palette=SYNTH_PALETTE)

    def __init__(self,
                 split: str = 'train',
                 num_samples: int = 512,
                 image_size: int = 48,
                 seed: int = 0,
                 hole_mode: str = 'keep',
                 fill_method: str = 'nearest',
                 **kwargs) -> None:
        if split not in SPLIT_IDS:
            raise ValueError(f'split must be one of {tuple(SPLIT_IDS)}, got {split!r}')
        if num_samples < 1:
            raise ValueError(f'num_samples must be >= 1, got {num_samples}')
        if image_size < 16:
            raise ValueError(f'image_size must be >= 16 pixels, got {image_size}')
        check_hole_handling(hole_mode, fill_method)
        self.split = split
        self.num_samples = num_samples
        self.image_size = image_size
        self.seed = seed
        self.hole_mode = hole_mode
        self.fill_method = fill_method
        kwargs.setdefault('data_prefix', dict(img_path='', seg_map_path=''))
        super().__init__(img_suffix='.png', seg_map_suffix='.png', **kwargs)
        self._metainfo['modality_channels'] = (3, 1)

    def load_data_list(self) -> List[dict]:
        """One small record per sample (rendering happens in ``get_data_info``)."""
        return [
            dict(img_path=f'synth_rgbd://{self.split}/{self.seed}/{i:06d}',
                 sample_name=f'synth_{self.split}_{i:06d}', synth_index=i,
                 label_map=None, reduce_zero_label=False, seg_fields=[])
            for i in range(self.num_samples)
        ]

    def render(self, index: int):
        """(rgb uint8 (S, S, 3), depth float32 (S, S) metres, label uint8 (S, S))."""
        rng = np.random.default_rng([self.seed, SPLIT_IDS[self.split], index])
        return render_scene(rng, self.image_size)

    def get_data_info(self, idx: int) -> dict:
        info = super().get_data_info(idx)
        rgb, depth, label = self.render(info['synth_index'])
        if self.hole_mode == 'fill':
            depth = fill_depth_holes(depth, self.fill_method)
        info['img'] = np.concatenate([rgb.astype(np.float32), depth[..., None]], axis=2)
        info['img_shape'] = info['ori_shape'] = rgb.shape[:2]
        info['modality_channels'] = (3, 1)
        info['gt_seg_map'] = label
        info['seg_fields'] = info['seg_fields'] + ['gt_seg_map']
        return info
