"""Losses and predictions of an mmpretrain 1.2.0 ``ClsHead`` from logits.

Problem: ``ClsHead.loss(feats, ...)`` / ``predict(feats, ...)`` run the head's forward
themselves; ``CENImageClassifier`` classifies every stream with the shared head and
builds the ensemble from those logits, so it needs the head's loss and prediction
*from logits* — the private ``_get_loss(cls_score, data_samples)`` and
``_get_predictions(cls_score, data_samples)`` that ``loss``/``predict`` call.

Retire when: mmpretrain exposes loss/prediction from scores (1.2.0 does not), or the
classifier wraps the head so that ``loss(feats)`` returns per-stream logits.
"""
from typing import List, Optional

import torch


def cls_head_loss(head, cls_score: torch.Tensor, data_samples: List,
                  **kwargs) -> dict:
    """``head``'s losses for ``cls_score`` (N, num_classes), as ``head.loss`` would."""
    return head._get_loss(cls_score, data_samples, **kwargs)


def cls_head_predictions(head, cls_score: torch.Tensor,
                         data_samples: Optional[List] = None) -> List:
    """``head``'s predicted data samples for ``cls_score`` (N, num_classes)."""
    return head._get_predictions(cls_score, data_samples)
