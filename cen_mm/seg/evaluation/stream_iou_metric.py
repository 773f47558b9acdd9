"""``StreamIoUMetric``: mmseg's IoU metric for the ensemble *and* every stream at once."""
import os
import os.path as osp
import re
import tempfile
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.logging import MMLogger, print_log
from mmengine.utils import mkdir_or_exist
from PIL import Image

from mmseg.evaluation import IoUMetric
from mmseg.registry import METRICS

ENSEMBLE_KEY = 'pred_sem_seg'
_STREAM_KEY = re.compile(r'^pred_sem_seg_s(\d+)$')


def stream_keys(sample) -> List[str]:
    """``pred_sem_seg`` first, then ``pred_sem_seg_s{m}`` in stream order (s2 < s10).

    ``sample``: a dict (the metric's view) or a ``SegDataSample``."""
    keys = list(sample.keys())
    streams = sorted((int(m.group(1)), k) for k in keys
                     for m in [_STREAM_KEY.match(k)] if m)
    return ([ENSEMBLE_KEY] if ENSEMBLE_KEY in keys else []) + [k for _, k in streams]


def save_label_map(label: np.ndarray, path: str) -> None:
    """Write an (H, W) uint8 label PNG atomically (temporary file, then rename)."""
    folder = osp.dirname(osp.abspath(path))
    mkdir_or_exist(folder)
    fd, tmp = tempfile.mkstemp(suffix='.png', dir=folder)
    try:
        with os.fdopen(fd, 'wb') as f:
            Image.fromarray(label.astype(np.uint8)).save(f, format='PNG')
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


@METRICS.register_module()
class StreamIoUMetric(IoUMetric):
    """IoU metrics of ``pred_sem_seg`` (the ensemble) plus ``pred_sem_seg_s{m}`` for
    every stream the model stored (``CENEncoderDecoder`` with
    ``test_cfg.stream_predictions=True``).

    Keys: the usual ``mIoU``/``aAcc``/... for the ensemble, and ``s{m}.mIoU``, ...
    per stream. mmseg's per-class table is printed for each, under a heading that
    names it ("ensemble" or "stream m (name)"). Every sample's per-key statistics live
    in ``self.results``, so distributed evaluation collects them as usual.

    Args:
        stream_names: optional names of the streams for the table headings, e.g.
            ``['rgb', 'depth']``.
        output_streams: with ``output_dir``, also write every stream's label map to
            ``output_dir/s{m}/NAME.png`` (the ensemble's goes to
            ``output_dir/NAME.png``, as with mmseg's ``IoUMetric``).
        **kwargs: :class:`mmseg.evaluation.IoUMetric` arguments (``output_dir``,
            ``format_only``, ``iou_metrics``, ...).
    """

    def __init__(self, stream_names: Optional[Sequence[str]] = None,
                 output_streams: bool = False, **kwargs) -> None:
        super().__init__(**kwargs)
        self.stream_names = list(stream_names) if stream_names else []
        self.output_streams = output_streams

    # ---- names ----------------------------------------------------------------------
    @staticmethod
    def metric_prefix(key: str) -> str:
        """``''`` for the ensemble, ``'s{m}'`` for stream m."""
        return '' if key == ENSEMBLE_KEY else key[len(ENSEMBLE_KEY) + 1:]

    def describe(self, key: str) -> str:
        """Heading of a key's table, e.g. ``"stream 1 'depth' (pred_sem_seg_s1)"``."""
        if key == ENSEMBLE_KEY:
            return f'ensemble ({key}; softmax(alpha)-weighted streams)'
        m = int(_STREAM_KEY.match(key).group(1))
        name = f" '{self.stream_names[m]}'" if m < len(self.stream_names) else ''
        return f'stream {m}{name} ({key})'

    # ---- evaluation -----------------------------------------------------------------
    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        num_classes = len(self.dataset_meta['classes'])
        for sample in data_samples:
            keys = stream_keys(sample)
            if ENSEMBLE_KEY not in keys:
                raise KeyError('StreamIoUMetric: sample has no pred_sem_seg')
            if not self.format_only:
                label = sample['gt_sem_seg']['data'].squeeze()
                stats = {}
                for key in keys:
                    pred = sample[key]['data'].squeeze()
                    stats[key] = self.intersect_and_union(
                        pred, label.to(pred), num_classes, self.ignore_index)
                self.results.append(stats)
            if self.output_dir is not None:
                self._write_label_maps(sample, keys)

    def _write_label_maps(self, sample: dict, keys: List[str]) -> None:
        """Ensemble -> ``output_dir/NAME.png``; streams (``output_streams``) ->
        ``output_dir/s{m}/NAME.png``; NAME is the stem of ``img_path`` (as mmseg)."""
        basename = osp.splitext(osp.basename(sample['img_path']))[0]
        for key in keys if self.output_streams else [ENSEMBLE_KEY]:
            label = sample[key]['data'].squeeze().cpu().numpy()
            if sample.get('reduce_zero_label', False):
                label = label + 1
            folder = osp.join(self.output_dir, self.metric_prefix(key))
            save_label_map(label, osp.join(folder, f'{basename}.png'))

    def compute_metrics(self, results: list) -> Dict[str, float]:
        logger: MMLogger = MMLogger.get_current_instance()
        if self.format_only:
            logger.info(f'label maps are saved to {self.output_dir}')
            return OrderedDict()
        metrics = {}
        for key in stream_keys(results[0]):
            prefix = self.metric_prefix(key)
            print_log(f'===== {self.describe(key)}: metric keys '
                      f"{prefix + '.' if prefix else ''}mIoU, ... =====", logger)
            values = super().compute_metrics([r[key] for r in results])
            metrics.update({(f'{prefix}.{k}' if prefix else k): v
                            for k, v in values.items()})
        return metrics
