"""Segmentors registered in mmseg's MODELS."""
from .cen_encoder_decoder import CENEncoderDecoder

__all__ = ['CENEncoderDecoder']
