"""``AverageFusion``: the element-wise mean of the streams (no parameters)."""
from typing import Optional, Sequence

import torch
from mmengine.registry import MODELS
from torch import Tensor

from .base_fusion import BaseFusion


@MODELS.register_module()
class AverageFusion(BaseFusion):
    """``fuse(x_1..x_M) = (x_1 + ... + x_M) / M``.

    Args:
        num_streams: M.
        channels: optional check of C (no parameters depend on it).

    Shapes: M x (N, C, H, W) -> (N, C, H, W).
    """

    def __init__(self, num_streams: int = 2, channels: Optional[int] = None):
        super().__init__(channels, num_streams)

    def forward(self, feats: Sequence[Tensor]) -> Tensor:
        return torch.stack(self.check_inputs(feats)).mean(dim=0)
