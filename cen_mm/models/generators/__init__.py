"""Scope-neutral CEN image-translation networks (mmengine root ``MODELS``): the U-Net
generator over a tasks × inputs grid of streams, its grid norm layer, and the PatchGAN."""
from .cen_unet import CENUnetGenerator, unet_channels
from .fusion_unet import FusionUnetGenerator
from .patch_discriminator import CENPatchDiscriminator
from .stream_grid_norm import StreamGridNorm
from .weight_init import pix2pix_normal_init

__all__ = [
    'CENUnetGenerator', 'FusionUnetGenerator', 'CENPatchDiscriminator', 'StreamGridNorm',
    'unet_channels', 'pix2pix_normal_init'
]
