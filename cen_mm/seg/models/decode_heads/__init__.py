"""Decode heads registered in mmseg's MODELS."""
from .refinenet_head import RefineNetHead

__all__ = ['RefineNetHead']
