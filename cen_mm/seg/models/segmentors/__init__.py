"""Segmentors registered in mmseg's MODELS."""
from .cen_encoder_decoder import CENEncoderDecoder
from .fusion_encoder_decoders import FusionCENEncoderDecoder, FusionEncoderDecoder

__all__ = ['CENEncoderDecoder', 'FusionEncoderDecoder', 'FusionCENEncoderDecoder']
