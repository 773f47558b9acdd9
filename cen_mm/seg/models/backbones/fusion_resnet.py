"""``FusionResNet``: the fusion baselines in the "commonly-used setting" (NeurIPS'20
Table 2, left half): separate sub-networks (own convs and BNs) per modality up to the
fusion point, one fused network after it, one prediction.

With fusion stages F and f = max(F)::

    stem, stage 0..f:   M separate ResNets (unshared convs, private BNs), stacked
                        stream-major along the batch as in CENResNet
    after stage i in F: fused_i = fusion_i(x_1, ..., x_M)            (N, C_i, H_i, W_i)
    stage f+1..3:       ONE single-stream ResNet on fused_f
    decoder level i:    fused_i (i in F); the single network's output (i > f);
                        the streams' mean (i < f, i not in F: no parameters)

'all' (F = all four stages): the sub-networks run to the end and every decoder level is
a fused map. State-dict keys are CENResNet's (``layer1.0.conv2.convs.{m}.weight`` in
the branches, ``layer4.0.conv2.weight`` / ``layer4.0.bn2.norms.0.*`` in the single
network, ``fusions.{i}.*``), so an ImageNet ResNet inflates into all of them.

Parameters, ResNet-101 + RefineNet (118.1M single-stream): 118.1M + the branches'
extra copy of stem..stage f + the fusion blocks (docs/paper_grid.md).
"""
import copy
from typing import Dict, Sequence, Tuple, Union

import torch
from mmseg.registry import MODELS
from torch import Tensor

from cen_mm.models.backbones import CENResNet
from .stage_fusion import (build_stage_fusions, fusion_losses, resolve_fusion_stages,
                           stage_out_channels, without_fusions)


@MODELS.register_module()
class FusionResNet(CENResNet):
    """Separate ResNets up to the (last) fusion stage, one fused ResNet after it.

    Args:
        fusion: config of one fusion block without ``channels``/``num_streams``
            (filled in per stage), e.g. ``dict(type='ConcatFusion')``.
        fusion_stages: ``'early'``, ``'middle'``, ``'late'``, ``'all'`` or 0-based
            stage indices.
        shared_convs: ``False`` (default): separate sub-networks. ``True`` shares the
            branches' convs (private BNs).
        exchange: channel exchange in the branches (default off).
        Other args: as :class:`~cen_mm.models.backbones.CENResNet`.

    Shapes:
        input: (N, sum(in_channels), H, W), modalities stacked along channels.
        output: tuple of (N, C_l, H_l, W_l) at ``out_indices`` (one stream), for
        single-stream segmentors (``FusionEncoderDecoder``, mmseg's EncoderDecoder).
    """

    def __init__(self, *args, fusion: dict, fusion_stages: Union[str, Sequence[int]],
                 shared_convs: bool = False, exchange: bool = False, **kwargs):
        stages = resolve_fusion_stages(fusion_stages, kwargs.get('num_stages', 4),
                                       'FusionResNet')
        # read by _make_res_layer during CENResNet.__init__
        object.__setattr__(self, 'last_branch_stage', stages[-1])
        super().__init__(*args, shared_convs=shared_convs, exchange=exchange, **kwargs)
        if self.num_streams < 2:
            raise ValueError(f'FusionResNet needs >= 2 streams, in_channels='
                             f'{self.in_channels}')
        self.fusion_stages = stages
        self.fusions = build_stage_fusions(
            fusion, stage_out_channels(self, kwargs.get('base_channels', 64)), stages,
            self.num_streams, 'FusionResNet')

    def _make_res_layer(self, layers, block, inplanes, planes, num_blocks, stride,
                        dilation):
        stage = len(self.res_layers)  # CENResNet appends each stage after building it
        if stage > self.last_branch_stage:
            # the single fused network: one stream, shared (ordinary) convs, no exchange
            layers = copy.copy(layers)
            layers.num_streams, layers.conv_cfg, layers.exchange = 1, None, False
        return super()._make_res_layer(layers, block, inplanes, planes, num_blocks,
                                       stride, dilation)

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        x = self.stack_streams(x)
        if self.deep_stem:
            x = self.stem(x)
        else:
            x = self.relu(self.bn1(self.conv1(x)))
        x = self.maxpool(x)
        levels = []
        for i, name in enumerate(self.res_layers):
            x = getattr(self, name)(x)
            level = x
            if i <= self.last_branch_stage:
                streams = x.chunk(self.num_streams)
                if str(i) in self.fusions:
                    level = self.fusions[str(i)](streams)
                    if i == self.last_branch_stage:
                        x = level  # the single network continues from here
                else:
                    level = torch.stack(streams).mean(dim=0)
            if i in self.out_indices:
                levels.append(level)
        return tuple(levels)

    def fusion_losses(self) -> Dict[str, Tensor]:
        return fusion_losses(self.fusions)

    def load_single_stream_checkpoint(self, *args, **kwargs):
        """Inflate an ImageNet ResNet into the branches and the fused network; the
        fusion blocks keep their own initialisation."""
        with without_fusions(self):
            super().load_single_stream_checkpoint(*args, **kwargs)
