"""``CENImageClassifier``: mmpretrain's ImageClassifier for M streams (e.g. RGB-D).

The backbone (e.g. ``CENResNet``) returns :class:`~cen_mm.core.MultiStreamFeatures`
(the M streams stacked stream-major along the batch). The neck and the head are shared
and run once on the stacked streams (M*N rows; identical to M separate calls for necks
and heads without batch statistics, e.g. ``GlobalAveragePooling`` + ``LinearClsHead``).
Each stream is classified and the ensemble module (:mod:`cen_mm.core.stream_ensemble`,
default ``sum_m softmax(alpha)_m * detach(logits_m)``) gives the prediction. Losses:
``s{m}.loss`` for every stream and ``ens.loss`` (trains the ensemble only).
"""
from typing import List, Optional, Union

import torch
import torch.nn as nn
from mmpretrain.models.classifiers import ImageClassifier
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from cen_mm.compat.mmpretrain_heads import cls_head_loss, cls_head_predictions
from cen_mm.core import (ENSEMBLE, MultiStreamFeatures, as_multi_stream,
                         build_stream_ensemble, load_legacy_alpha)


@MODELS.register_module()
class CENImageClassifier(ImageClassifier):
    """Multi-stream image classifier with a shared neck/head and a learned ensemble.

    Args:
        num_streams: M; default ``backbone.num_streams``.
        output: what ``predict`` uses: ``'ensemble'`` or a stream index
            (``mode='tensor'`` returns all outputs).
        ensemble: config of the ensemble module (default ``StreamEnsemble``).
        Other args: as :class:`mmpretrain.models.ImageClassifier`.

    Shapes: inputs (N, sum C_m, H, W); logits (N, num_classes).
    Parameters: ``ensemble.alpha`` (M,) (``alpha`` is an alias; checkpoints with a
    top-level ``alpha`` still load).
    """

    def __init__(self, *args, num_streams: Optional[int] = None,
                 output: Union[str, int] = ENSEMBLE, ensemble: Optional[dict] = None,
                 **kwargs):
        super().__init__(*args, **kwargs)
        num_streams = num_streams or getattr(self.backbone, 'num_streams', None)
        if not num_streams:
            raise ValueError('CENImageClassifier: set num_streams or use a backbone '
                             'with a `num_streams` attribute (e.g. CENResNet)')
        self.num_streams = num_streams
        self.ensemble = build_stream_ensemble(
            ensemble, num_streams, channels=getattr(self.head, 'num_classes', None))
        load_legacy_alpha(self, 'ensemble')
        self.ensemble.check_output(output, key='output')
        self.output = output

    @property
    def alpha(self) -> Optional[nn.Parameter]:
        """The ensemble weights before softmax, ``ensemble.alpha`` (M,)."""
        return getattr(self.ensemble, 'alpha', None)

    def extract_feat(self, inputs: torch.Tensor,
                     stage: str = 'neck') -> MultiStreamFeatures:
        """The M streams' features after ``stage`` ('backbone', 'neck' or
        'pre_logits'), stacked stream-major (``.stream(m)`` for stream m)."""
        if stage not in ('backbone', 'neck', 'pre_logits'):
            raise ValueError(f"unknown stage {stage!r}: expected 'backbone', 'neck' or "
                             "'pre_logits'")
        feats = as_multi_stream(self.backbone(inputs), self.num_streams,
                                'CENImageClassifier: backbone output')
        if stage == 'backbone':
            return feats
        if self.with_neck:
            feats = MultiStreamFeatures(self.neck(feats.stacked), self.num_streams)
        if stage == 'pre_logits':
            feats = MultiStreamFeatures(self.head.pre_logits(feats.stacked),
                                        self.num_streams)
        return feats

    def stream_logits(self, inputs: torch.Tensor) -> List[torch.Tensor]:
        """[logits_0, ..., logits_{M-1}, logits_ens], each (N, num_classes)."""
        stacked = self.head(self.extract_feat(inputs).stacked)  # (M*N, K)
        return self.ensemble.outputs(stacked)

    def forward(self, inputs, data_samples=None, mode: str = 'tensor'):
        if mode == 'tensor':
            return self.stream_logits(inputs)
        return super().forward(inputs, data_samples, mode)

    def loss(self, inputs: torch.Tensor, data_samples: List[DataSample]) -> dict:
        return self.ensemble.name_losses([
            cls_head_loss(self.head, logits, data_samples)
            for logits in self.stream_logits(inputs)
        ])

    def predict(self, inputs: torch.Tensor,
                data_samples: Optional[List[DataSample]] = None,
                **kwargs) -> List[DataSample]:
        self.ensemble.check_output(self.output, key='output')
        all_logits = self.stream_logits(inputs)
        index = -1 if self.output == ENSEMBLE else self.output
        return cls_head_predictions(self.head, all_logits[index], data_samples)
