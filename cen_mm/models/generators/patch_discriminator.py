"""``CENPatchDiscriminator``: the Pix2Pix 70×70 PatchGAN (conditional, logits out).

Scope-neutral (mmengine root ``MODELS``) so it can be shared by every stream of a CEN
translation model: ``CENPix2Pix`` applies one instance to the stacked
(input stream, output) pairs of all streams. Layout for ``num_conv=3``::

    conv(in, 64, s2) LReLU | conv(64, 128, s2) norm LReLU | conv(128, 256, s2) norm LReLU
    | conv(256, 512, s1) norm LReLU | conv(512, 1, s1)          (kernel 4, padding 1)

It returns logits (no sigmoid): the losses use ``binary_cross_entropy_with_logits``,
equivalent to the official code's sigmoid + BCE.

It is the architecture of mmagic's ``PatchDiscriminator`` with
``norm_cfg=dict(type='IN', affine=True)`` (same layers, 2,769,601 parameters at the
defaults; ``test_cen_unet.py::test_patch_discriminator_equals_mmagic``), but not a
subclass of it: importing ``mmagic.models`` costs ~10 s and pulls diffusers and
transformers into ``import cen_mm`` (scope-neutral models are imported with the
package; ``tests/test_compat/test_import_weight.py`` forbids that), and its state-dict
keys (``model.1.conv.weight``, ``model.1.in.weight``) differ from the checkpoints'
(``model.2.weight``, ``model.3.weight``).
"""
from typing import Optional

import torch
import torch.nn as nn
from mmcv.cnn import build_norm_layer
from mmengine.model import BaseModule
from mmengine.registry import MODELS

from .weight_init import pix2pix_init_cfg


@MODELS.register_module()
class CENPatchDiscriminator(BaseModule):
    """PatchGAN discriminator.

    Args:
        in_channels: channels of the (condition, image) pair, e.g. 3 + 3.
        base_channels: channels of the first conv.
        num_conv: stride-2 convs (3 -> 70×70 receptive field).
        norm_cfg: norm after every conv but the first and last (official CEN code:
            instance norm with affine parameters).
        init_std: σ of the N(0, σ) conv weight initialisation (the default
            ``init_cfg``, :func:`pix2pix_init_cfg`).
        init_cfg: mmengine init config; ``None``: :func:`pix2pix_init_cfg`
            (``init_std``). ``dict(type='Pretrained', ...)`` loads a checkpoint.

    Shapes: (N, in_channels, H, W) -> (N, 1, H/2^num_conv - 2, W/2^num_conv - 2).
    """

    def __init__(self,
                 in_channels: int = 6,
                 base_channels: int = 64,
                 num_conv: int = 3,
                 norm_cfg: Optional[dict] = None,
                 init_std: float = 0.02,
                 init_cfg: Optional[dict] = None):
        if init_cfg is None:
            init_cfg = pix2pix_init_cfg(init_std)
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

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)
