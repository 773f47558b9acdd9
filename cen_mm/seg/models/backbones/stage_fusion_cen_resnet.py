"""``StageFusionCENResNet``: the fusion baselines "same with our setting" (NeurIPS'20
Table 2, right half): a CEN ResNet (shared convs, private BNs, every stream kept to the
end; usually ``exchange=False``) with a fusion block after some stages whose result is
fed back into every stream.

After stage i in ``fusion_stages`` (stacked stream-major output (M*N, C, H, W))::

    f = fusion(x_1, ..., x_M)                  (N, C, H, W)
    x_m <- x_m + f     (feedback='add', default: each sub-network keeps its own path)
    x_m <- f           (feedback='replace')

The fused stacked map is what the next stage and the decoder see, so the segmentor
(``CENEncoderDecoder`` and its subclass :class:`FusionCENEncoderDecoder`) still predicts
per stream (RGB / depth) and with the ensemble. With ``shared_convs=False`` (plus
``shared_heads=False`` in the segmentor) the streams are separate networks up to the
end: the "align" rows of the commonly-used setting (two full RefineNets, 2 x 118.1M +
the fusion blocks).

The blocks run as forward hooks of ``layer{i+1}``, so ``CENResNet``'s forward (and its
output type) is used unchanged.
"""
from functools import partial
from typing import Dict, Sequence, Union

import torch
from mmseg.registry import MODELS
from torch import Tensor

from cen_mm.models.backbones import CENResNet
from .stage_fusion import (build_stage_fusions, fusion_losses, resolve_fusion_stages,
                           stage_out_channels, without_fusions)

FEEDBACK_MODES = ('add', 'replace')


@MODELS.register_module()
class StageFusionCENResNet(CENResNet):
    """CENResNet with fusion blocks after some stages, fed back into every stream.

    Args:
        fusion: config of one fusion block without ``channels``/``num_streams``
            (filled in per stage), e.g. ``dict(type='SSMAFusion', reduction=16)``.
        fusion_stages: ``'early'``, ``'middle'``, ``'late'``, ``'all'`` or stage
            indices (0-based, see :mod:`.stage_fusion`).
        feedback: ``'add'`` or ``'replace'`` (see module docstring).
        Other args: as :class:`~cen_mm.models.backbones.CENResNet`.

    Submodules: ``fusions`` (ModuleDict ``'{stage}'`` -> block). ``fusion_losses()``:
    auxiliary losses of the last forward (``loss_align`` for ``AlignFusion``).
    Shapes: as ``CENResNet``.
    """

    def __init__(self, *args, fusion: dict, fusion_stages: Union[str, Sequence[int]],
                 feedback: str = 'add', **kwargs):
        super().__init__(*args, **kwargs)
        if feedback not in FEEDBACK_MODES:
            raise ValueError(f'StageFusionCENResNet: feedback={feedback!r}; expected '
                             f'one of {FEEDBACK_MODES}')
        if self.num_streams < 2:
            raise ValueError('StageFusionCENResNet needs >= 2 streams, in_channels='
                             f'{self.in_channels}')
        self.fusion_stages = resolve_fusion_stages(fusion_stages, self.num_stages,
                                                   'StageFusionCENResNet')
        self.feedback = feedback
        channels = stage_out_channels(self, kwargs.get('base_channels', 64))
        self.fusions = build_stage_fusions(fusion, channels, self.fusion_stages,
                                           self.num_streams, 'StageFusionCENResNet')
        for i in self.fusion_stages:
            # a partial of a bound method: deep copies of the model hook their own blocks
            getattr(self, self.res_layers[i]).register_forward_hook(
                partial(self._fusion_hook, str(i)))

    def _fusion_hook(self, key: str, module, args, output: Tensor) -> Tensor:
        return self.fuse_stacked(key, output)

    def fuse_stacked(self, key: str, x: Tensor) -> Tensor:
        """(M*N, C, H, W) stacked streams -> same shape, fused and fed back."""
        streams = x.chunk(self.num_streams)
        fused = self.fusions[key](streams)
        if self.feedback == 'replace':
            return fused.repeat(self.num_streams, 1, 1, 1)
        return torch.cat([s + fused for s in streams])

    def fusion_losses(self) -> Dict[str, Tensor]:
        return fusion_losses(self.fusions)

    def load_single_stream_checkpoint(self, *args, **kwargs):
        """Inflate an ImageNet ResNet into the streams; the fusion blocks keep their
        own initialisation (they are not in such a checkpoint)."""
        with without_fusions(self):
            super().load_single_stream_checkpoint(*args, **kwargs)
