"""Segmentors of the fusion baselines: the backbone's fusion blocks may keep auxiliary
losses (``AlignFusion``'s MK-MMD, as ``loss_align``); these add them to the losses.

* :class:`FusionEncoderDecoder`: mmseg's ``EncoderDecoder`` (one prediction), for
  ``FusionResNet`` (commonly-used setting).
* :class:`FusionCENEncoderDecoder`: ``CENEncoderDecoder`` (per-stream predictions and
  the ensemble), for ``StageFusionCENResNet`` (setting "same with ours").
"""
from mmseg.models.segmentors import EncoderDecoder
from mmseg.registry import MODELS

from .cen_encoder_decoder import CENEncoderDecoder


class BackboneLossMixin:
    """``loss()`` plus ``backbone.fusion_losses()`` (if the backbone has them)."""

    def loss(self, inputs, data_samples) -> dict:
        losses = super().loss(inputs, data_samples)
        extra = getattr(self.backbone, 'fusion_losses', None)
        if extra is not None:
            for key, value in extra().items():
                if key in losses:
                    raise KeyError(f'{type(self).__name__}: backbone loss {key!r} '
                                   'collides with a head loss')
                losses[key] = value
        return losses


@MODELS.register_module()
class FusionEncoderDecoder(BackboneLossMixin, EncoderDecoder):
    """mmseg's EncoderDecoder + the backbone's fusion losses (single prediction)."""


@MODELS.register_module()
class FusionCENEncoderDecoder(BackboneLossMixin, CENEncoderDecoder):
    """CENEncoderDecoder + the backbone's fusion losses (streams + ensemble)."""
