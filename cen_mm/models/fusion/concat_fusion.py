"""``ConcatFusion``: concatenation along channels + 1x1 conv back to C (supp. §2 of
NeurIPS'20). Parameters: M*C*C + C (M=2: 2C^2 + C)."""
from typing import Sequence

import torch
import torch.nn as nn
from mmengine.registry import MODELS
from torch import Tensor

from .base_fusion import BaseFusion


@MODELS.register_module()
class ConcatFusion(BaseFusion):
    """``fuse(x_1..x_M) = conv1x1(cat(x_1, ..., x_M))``.

    Args:
        channels: C of every stream.
        num_streams: M.

    Shapes: M x (N, C, H, W) -> (N, C, H, W). Submodule: ``conv`` (M*C -> C, bias).
    """

    def __init__(self, channels: int, num_streams: int = 2):
        super().__init__(channels, num_streams)
        self.conv = nn.Conv2d(self.num_streams * self.channels, self.channels, 1)

    def forward(self, feats: Sequence[Tensor]) -> Tensor:
        return self.conv(torch.cat(self.check_inputs(feats), dim=1))
