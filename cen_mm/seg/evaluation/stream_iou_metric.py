"""``StreamIoUMetric``: mmseg's IoU metric for the ensemble *and* every stream at once."""
from typing import Dict, Sequence

from mmseg.evaluation import IoUMetric
from mmseg.registry import METRICS


@METRICS.register_module()
class StreamIoUMetric(IoUMetric):
    """IoU metrics of ``pred_sem_seg`` (the ensemble) plus ``pred_sem_seg_s{m}`` for
    every stream the model stored (``CENEncoderDecoder`` with
    ``test_cfg.stream_predictions=True``).

    Keys: the usual ``mIoU``/``aAcc``/... for the ensemble, and ``s{m}.mIoU``, ...
    per stream; mmseg's per-class table is printed for each. Every sample's per-key
    statistics live in ``self.results``, so distributed evaluation collects them
    as usual.
    """

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        num_classes = len(self.dataset_meta['classes'])
        for sample in data_samples:
            label = sample['gt_sem_seg']['data'].squeeze()
            stats = {}
            for key in sorted(k for k in sample if k.startswith('pred_sem_seg')):
                pred = sample[key]['data'].squeeze()
                stats[key] = self.intersect_and_union(pred, label.to(pred),
                                                      num_classes, self.ignore_index)
            if 'pred_sem_seg' not in stats:
                raise KeyError('StreamIoUMetric: sample has no pred_sem_seg')
            self.results.append(stats)

    def compute_metrics(self, results: list) -> Dict[str, float]:
        metrics = {}
        for key in results[0]:
            stream = key[len('pred_sem_seg_'):] if key != 'pred_sem_seg' else ''
            values = super().compute_metrics([r[key] for r in results])
            metrics.update({(f'{stream}.{k}' if stream else k): v
                            for k, v in values.items()})
        return metrics
