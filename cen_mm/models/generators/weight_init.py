"""Pix2Pix weight initialisation: conv weights ~ N(0, σ), conv biases 0, norms untouched.

mmagic 1.2.0's ``generation_init_weights`` raises ``UnboundLocalError`` (``init_info``)
on any module that is neither a conv nor a BatchNorm once mmengine's init-info
bookkeeping is active, so the CEN generator/discriminator initialise themselves here.
Affine norm layers keep PyTorch's γ = 1, β = 0 (as pytorch-CycleGAN-and-pix2pix and
the official CEN code do for instance norm).
"""
import torch.nn as nn
from mmengine.model import normal_init

_CONV_TYPES = (nn.Conv2d, nn.ConvTranspose2d)


def pix2pix_normal_init(module: nn.Module, std: float = 0.02) -> None:
    """In place: Conv2d/ConvTranspose2d in ``module`` get N(0, std) weights and 0 bias."""
    for m in module.modules():
        if isinstance(m, _CONV_TYPES):
            normal_init(m, mean=0.0, std=std, bias=0.0)
