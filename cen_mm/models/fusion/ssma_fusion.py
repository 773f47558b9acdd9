"""``SSMAFusion``: the self-supervised model adaptation (SSMA) block of Valada et al.
(IJCV 2020), the "self-attention" baseline of the CEN papers (eta = 16).

    x   = cat(x_1, ..., x_M)                              (N, M*C, H, W)
    g   = sigmoid(conv3x3(relu(conv3x3(x))))              bottleneck M*C -> C/eta -> M*C
    out = BN(conv3x3(x * g))                              M*C -> C

The bottleneck width is C / eta with C the channels of *one* stream. With M=2 the block
has 9*(2C*C/16)*2 + 9*2C*C = 20.25 C^2 weights (+ biases, BN): the "params used for
fusion" of NeurIPS'20 Table 2 (e.g. 21.2M after ResNet-101 stage 3, C=1024), where a
bottleneck of 2C/eta would give 22.5 C^2 (23.6M).
"""
from typing import Optional, Sequence

import torch
import torch.nn as nn
from mmcv.cnn import build_norm_layer
from mmengine.registry import MODELS
from torch import Tensor

from .base_fusion import BaseFusion


@MODELS.register_module()
class SSMAFusion(BaseFusion):
    """SSMA fusion: channel gating of the concatenated streams, then a 3x3 conv to C.

    Args:
        channels: C of every stream.
        num_streams: M.
        reduction: eta; bottleneck channels = max(1, C // eta).
        norm_cfg: norm after the fusion conv (mmcv style; ``None``: no norm).

    Shapes: M x (N, C, H, W) -> (N, C, H, W). Submodules: ``bottleneck`` (conv3x3,
    ReLU, conv3x3, sigmoid) computing the gate (N, M*C, H, W) in (0, 1);
    ``fuse_conv`` + ``norm``.
    """

    def __init__(self, channels: int, num_streams: int = 2, reduction: int = 16,
                 norm_cfg: Optional[dict] = dict(type='BN')):
        super().__init__(channels, num_streams)
        if int(reduction) != reduction or reduction < 1:
            raise ValueError(f'SSMAFusion: reduction must be a positive int, got '
                             f'{reduction!r}')
        stacked = self.num_streams * self.channels
        hidden = max(1, self.channels // int(reduction))
        self.reduction = int(reduction)
        self.bottleneck = nn.Sequential(
            nn.Conv2d(stacked, hidden, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(hidden, stacked, 3, padding=1), nn.Sigmoid())
        self.fuse_conv = nn.Conv2d(stacked, self.channels, 3, padding=1,
                                   bias=norm_cfg is None)
        self.norm = nn.Identity() if norm_cfg is None else build_norm_layer(
            norm_cfg, self.channels)[1]

    def gate(self, feats: Sequence[Tensor]) -> Tensor:
        """The attention gate (N, M*C, H, W), values in (0, 1)."""
        return self.bottleneck(torch.cat(self.check_inputs(feats), dim=1))

    def forward(self, feats: Sequence[Tensor]) -> Tensor:
        x = torch.cat(self.check_inputs(feats), dim=1)
        return self.norm(self.fuse_conv(x * self.bottleneck(x)))
