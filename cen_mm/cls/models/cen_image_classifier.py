"""``CENImageClassifier``: mmpretrain's ImageClassifier for M streams (e.g. RGB-D).

The backbone (e.g. ``CENResNet``) returns M per-stream feature tuples. The neck and the
head are shared: each stream is classified, and the ensemble
``sum_m softmax(alpha)_m * detach(logits_m)`` (see :mod:`cen_mm.core.ensemble`) is the
prediction. Losses: ``s{m}.loss`` for every stream and ``ens.loss`` (trains alpha only).
"""
from typing import List, Optional, Union

import torch
import torch.nn as nn
from mmpretrain.models.classifiers import ImageClassifier
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from cen_mm.compat.mmpretrain_heads import cls_head_loss, cls_head_predictions
from cen_mm.core import detached_ensemble


@MODELS.register_module()
class CENImageClassifier(ImageClassifier):
    """Multi-stream image classifier with a shared neck/head and a learned ensemble.

    Args:
        num_streams: M; default ``backbone.num_streams``.
        output: what ``predict``/``mode='tensor'`` use: ``'ensemble'`` or a stream index.
        Other args: as :class:`mmpretrain.models.ImageClassifier`.

    Shapes: inputs (N, sum C_m, H, W); logits (N, num_classes).
    """

    def __init__(self, *args, num_streams: Optional[int] = None,
                 output: Union[str, int] = 'ensemble', **kwargs):
        super().__init__(*args, **kwargs)
        num_streams = num_streams or getattr(self.backbone, 'num_streams', None)
        if not num_streams:
            raise ValueError('CENImageClassifier: set num_streams or use a backbone '
                             'with a `num_streams` attribute (e.g. CENResNet)')
        if output != 'ensemble' and output not in range(num_streams):
            raise ValueError(f"output must be 'ensemble' or a stream index < "
                             f'{num_streams}, got {output!r}')
        self.num_streams = num_streams
        self.output = output
        self.alpha = nn.Parameter(torch.ones(num_streams))

    def extract_feat(self, inputs: torch.Tensor, stage: str = 'neck') -> list:
        """List of M per-stream features (tuples after backbone/neck)."""
        streams = self.backbone(inputs)
        if len(streams) != self.num_streams:
            raise TypeError(f'backbone returned {len(streams)} streams, expected '
                            f'{self.num_streams}')
        if stage == 'backbone':
            return list(streams)
        if self.with_neck:
            streams = [self.neck(tuple(s)) for s in streams]
        if stage == 'neck':
            return list(streams)
        if stage == 'pre_logits':
            return [self.head.pre_logits(s) for s in streams]
        raise ValueError(f'unknown stage {stage!r}')

    def stream_logits(self, inputs: torch.Tensor) -> List[torch.Tensor]:
        """[logits_0, ..., logits_{M-1}, logits_ens], each (N, num_classes)."""
        logits = [self.head(s) for s in self.extract_feat(inputs)]
        return logits + [detached_ensemble(self.alpha, logits)]

    def forward(self, inputs, data_samples=None, mode: str = 'tensor'):
        if mode == 'tensor':
            return self.stream_logits(inputs)
        return super().forward(inputs, data_samples, mode)

    def loss(self, inputs: torch.Tensor, data_samples: List[DataSample]) -> dict:
        all_logits = self.stream_logits(inputs)
        names = [f's{m}' for m in range(self.num_streams)] + ['ens']
        losses = dict()
        for name, logits in zip(names, all_logits):
            for key, value in cls_head_loss(self.head, logits, data_samples).items():
                losses[f'{name}.{key}'] = value
        return losses

    def predict(self, inputs: torch.Tensor,
                data_samples: Optional[List[DataSample]] = None,
                **kwargs) -> List[DataSample]:
        all_logits = self.stream_logits(inputs)
        index = -1 if self.output == 'ensemble' else self.output
        return cls_head_predictions(self.head, all_logits[index], data_samples)
