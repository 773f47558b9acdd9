"""Building blocks of the multi-stream segmentation models."""
from .private_stream_norm import PrivateStreamNorm
from .stream_heads import StreamHeads

__all__ = ['PrivateStreamNorm', 'StreamHeads']
