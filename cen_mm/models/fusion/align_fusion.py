"""``AlignFusion``: fusion by alignment, a re-implementation of Wang et al. (ECCV 2016,
"Learning common and specific features for RGB-D semantic segmentation"), the "align"
baseline of the CEN papers (11 Gaussian kernels in the MK-MMD, their default).

Per stream m, 1x1 convs split the features into a common part c_m and a specific part
s_m; an MK-MMD loss pulls the distributions of the common parts together (their pixel
feature vectors are the samples); a 1x1 conv fuses the streams with both parts::

    c_m = conv1x1_common_m(x_m),  s_m = conv1x1_specific_m(x_m)        C -> C each
    out = conv1x1_fuse(cat(x_1..x_M, c_1..c_M, s_1..s_M))              3*M*C -> C
    last_loss = loss_weight * mean_{a<b} MK-MMD^2(c_a, c_b)

Weights: 2*M*C^2 + 3*M*C^2 = 5*M*C^2 (+ biases) = 10 C^2 for M=2: the "params used for
fusion" of NeurIPS'20 Table 2 (2.6M / 10.5M / 41.9M after ResNet-101 stage 2 / 3 / 4).
The paper gives no layer-level description; this structure is chosen to be a faithful
common/specific alignment *and* to reproduce those counts.
"""
from itertools import combinations
from typing import Sequence

import torch
import torch.nn as nn
from mmengine.registry import MODELS
from torch import Tensor

from .base_fusion import BaseFusion
from .mk_mmd import mk_mmd


@MODELS.register_module()
class AlignFusion(BaseFusion):
    """Common/specific split per stream, MK-MMD on the common parts, 1x1 fusion.

    Args:
        channels: C of every stream.
        num_streams: M.
        num_kernels: Gaussian kernels of the MK-MMD (11 as Wang et al.).
        kernel_mul: ratio between neighbouring kernel bandwidths.
        max_samples: the MMD uses at most this many pixel positions (the same random
            positions in every stream) of the batch, to bound its (n^2) cost.
        loss_weight: factor of the alignment loss.

    Shapes: M x (N, C, H, W) -> (N, C, H, W). After a forward in training mode,
    ``last_loss`` is the scalar alignment loss of that forward (0 in eval mode), for
    the model to add to its losses (e.g. as ``loss_align``).
    """

    def __init__(self, channels: int, num_streams: int = 2, num_kernels: int = 11,
                 kernel_mul: float = 2.0, max_samples: int = 1024,
                 loss_weight: float = 1.0):
        super().__init__(channels, num_streams)
        if int(num_kernels) != num_kernels or num_kernels < 1:
            raise ValueError(f'AlignFusion: num_kernels must be a positive int, got '
                             f'{num_kernels!r}')
        if max_samples < 2:
            raise ValueError(f'AlignFusion: max_samples must be >= 2, got '
                             f'{max_samples!r}')
        C, M = self.channels, self.num_streams
        self.num_kernels = int(num_kernels)
        self.kernel_mul = float(kernel_mul)
        self.max_samples = int(max_samples)
        self.loss_weight = float(loss_weight)
        self.common = nn.ModuleList(nn.Conv2d(C, C, 1) for _ in range(M))
        self.specific = nn.ModuleList(nn.Conv2d(C, C, 1) for _ in range(M))
        self.fuse_conv = nn.Conv2d(3 * M * C, C, 1)
        self.last_loss = torch.zeros(())

    def alignment_loss(self, commons: Sequence[Tensor]) -> Tensor:
        """Mean MK-MMD^2 over stream pairs of the common parts (each (N, C, H, W))."""
        samples = [c.permute(0, 2, 3, 1).reshape(-1, c.shape[1]) for c in commons]
        count = samples[0].shape[0]
        if count > self.max_samples:
            keep = torch.randperm(count, device=samples[0].device)[:self.max_samples]
            samples = [s[keep] for s in samples]
        losses = [
            mk_mmd(samples[a], samples[b], self.num_kernels, self.kernel_mul)
            for a, b in combinations(range(len(samples)), 2)
        ]
        return torch.stack(losses).mean()

    def forward(self, feats: Sequence[Tensor]) -> Tensor:
        feats = self.check_inputs(feats)
        commons = [conv(x) for conv, x in zip(self.common, feats)]
        specifics = [conv(x) for conv, x in zip(self.specific, feats)]
        fused = self.fuse_conv(torch.cat(feats + commons + specifics, dim=1))
        if self.training:
            self.last_loss = self.loss_weight * self.alignment_loss(commons)
        else:
            self.last_loss = fused.new_zeros(())
        return fused
