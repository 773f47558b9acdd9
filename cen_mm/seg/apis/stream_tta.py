"""``StreamSegTTAModel``: mmseg's SegTTAModel for models that also store per-stream
predictions (``CENEncoderDecoder`` with ``test_cfg.stream_predictions=True``).

mmseg's ``SegTTAModel.merge_preds`` averages the ensemble's probabilities over the
views but returns the *last* view's data sample, so per-stream label maps
(``pred_sem_seg_s{m}``, label maps only, no logits to average) would be those of one
augmented view. This subclass removes them from the merged samples, so ``--tta``
evaluates the test-time-augmented ensemble only (evaluate streams without ``--tta``).
"""
from typing import List

from mmengine.logging import print_log

from mmseg.models import SegTTAModel
from mmseg.registry import MODELS
from mmseg.utils import SampleList
from ..evaluation.stream_iou_metric import ENSEMBLE_KEY, stream_keys


@MODELS.register_module()
class StreamSegTTAModel(SegTTAModel):
    """SegTTAModel whose merged samples carry no single-view stream predictions."""

    _warned = False

    def merge_preds(self, data_samples_list: List[SampleList]) -> SampleList:
        merged = super().merge_preds(data_samples_list)
        for sample in merged:
            for key in stream_keys(sample):
                if key != ENSEMBLE_KEY:
                    sample.pop(key)
                    if not StreamSegTTAModel._warned:
                        StreamSegTTAModel._warned = True
                        print_log('--tta: per-stream predictions are not averaged '
                                  'over the views and are left out; evaluate the '
                                  'streams without --tta', logger='current')
        return merged
