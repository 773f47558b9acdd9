"""Pix2Pix weight initialisation as an mmengine ``init_cfg``: Conv2d/ConvTranspose2d
weights ~ N(0, σ), their biases 0, norms untouched.

mmagic's Pix2Pix modules use ``init_cfg=dict(type='normal', gain=0.02)``, which their
``init_weights`` hands to mmagic 1.2.0's ``generation_init_weights``; that raises
``UnboundLocalError`` (``init_info``) on any module that is neither a conv nor a
BatchNorm once mmengine's init-info bookkeeping is active. The CEN generator and
discriminator therefore use mmengine's own ``Normal`` initialiser, which does the
same to the convs. Affine norm layers keep PyTorch's γ = 1, β = 0 (as
pytorch-CycleGAN-and-pix2pix and the official CEN code do for instance norm).
"""
import torch.nn as nn
from mmengine.model import initialize


def pix2pix_init_cfg(std: float = 0.02) -> dict:
    """mmengine ``init_cfg``: N(0, ``std``) weights and 0 bias for every Conv2d and
    ConvTranspose2d of the module (and of its submodules)."""
    return dict(type='Normal', layer=['Conv2d', 'ConvTranspose2d'], mean=0.0, std=std,
                bias=0.0)


def pix2pix_normal_init(module: nn.Module, std: float = 0.02) -> None:
    """In place: apply :func:`pix2pix_init_cfg` to ``module`` (any ``nn.Module``)."""
    initialize(module, pix2pix_init_cfg(std))
