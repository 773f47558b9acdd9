"""``CENPatchDiscriminator``: the Pix2Pix 70×70 PatchGAN (conditional, logits out).

Scope-neutral (mmengine root ``MODELS``) so it can be shared by every stream of a CEN
translation model: ``CENPix2Pix`` applies one instance to the stacked
(input stream, output) pairs of all streams. Layout for ``num_conv=3``::

    conv(in, 64, s2) LReLU | conv(64, 128, s2) norm LReLU | conv(128, 256, s2) norm LReLU
    | conv(256, 512, s1) norm LReLU | conv(512, 1, s1)          (kernel 4, padding 1)

It returns logits (no sigmoid): the losses use ``binary_cross_entropy_with_logits``,
equivalent to the official code's sigmoid + BCE.
"""
from typing import Optional

import torch
import torch.nn as nn
from mmcv.cnn import build_norm_layer
from mmengine.model import BaseModule
from mmengine.registry import MODELS

from .weight_init import pix2pix_normal_init


@MODELS.register_module()
class CENPatchDiscriminator(BaseModule):
    """PatchGAN discriminator.

    Args:
        in_channels: channels of the (condition, image) pair, e.g. 3 + 3.
        base_channels: channels of the first conv.
        num_conv: stride-2 convs (3 -> 70×70 receptive field).
        norm_cfg: norm after every conv but the first and last (official CEN code:
            instance norm with affine parameters).
        init_std: σ of the N(0, σ) conv weight initialisation.

    Shapes: (N, in_channels, H, W) -> (N, 1, H/2^num_conv - 2, W/2^num_conv - 2).
    """

    def __init__(self,
                 in_channels: int = 6,
                 base_channels: int = 64,
                 num_conv: int = 3,
                 norm_cfg: Optional[dict] = None,
                 init_std: float = 0.02,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        if num_conv < 1:
            raise ValueError(f'num_conv must be >= 1, got {num_conv}')
        norm_cfg = dict(type='IN', affine=True) if norm_cfg is None else dict(norm_cfg)
        self.init_std = init_std
        layers = [nn.Conv2d(in_channels, base_channels, 4, 2, 1), nn.LeakyReLU(0.2)]
        channels = base_channels
        for i in range(1, num_conv + 1):
            out = base_channels * min(2**i, 8)
            stride = 2 if i < num_conv else 1
            layers += [
                nn.Conv2d(channels, out, 4, stride, 1),
                build_norm_layer(norm_cfg, out)[1],
                nn.LeakyReLU(0.2)
            ]
            channels = out
        layers.append(nn.Conv2d(channels, 1, 4, 1, 1))
        self.model = nn.Sequential(*layers)

    def init_weights(self) -> None:
        if self.init_cfg is not None and self.init_cfg.get('type') == 'Pretrained':
            super().init_weights()
            return
        pix2pix_normal_init(self, self.init_std)
        self._is_init = True

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)
