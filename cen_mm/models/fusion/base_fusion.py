"""``BaseFusion``: the common interface and input checks of the fusion blocks."""
from typing import List, Optional, Sequence

import torch.nn as nn
from torch import Tensor


class BaseFusion(nn.Module):
    """Fuses M per-stream feature maps into one.

    Args:
        channels: C, the channels of every stream's map (``None``: any, for blocks
            without parameters).
        num_streams: M >= 2.

    Shapes: ``forward(feats)``: ``feats`` is a sequence of M tensors (N, C, H, W) of
    equal shape; returns (N, C, H, W).
    """

    def __init__(self, channels: Optional[int], num_streams: int = 2):
        super().__init__()
        name = type(self).__name__
        if int(num_streams) != num_streams or num_streams < 2:
            raise ValueError(f'{name}: num_streams must be an int >= 2, got '
                             f'{num_streams!r}')
        if channels is not None and (int(channels) != channels or channels < 1):
            raise ValueError(f'{name}: channels must be a positive int, got '
                             f'{channels!r}')
        self.channels = None if channels is None else int(channels)
        self.num_streams = int(num_streams)

    def check_inputs(self, feats: Sequence[Tensor]) -> List[Tensor]:
        """Validate ``feats`` (M tensors of equal (N, C, H, W) shape) and list them."""
        name = type(self).__name__
        if isinstance(feats, Tensor) or not isinstance(feats, Sequence):
            raise TypeError(f'{name} expects a sequence of {self.num_streams} tensors '
                            f'(one (N, C, H, W) map per stream), got '
                            f'{type(feats).__name__}')
        feats = list(feats)
        if len(feats) != self.num_streams:
            raise ValueError(f'{name}(num_streams={self.num_streams}) got '
                             f'{len(feats)} feature maps')
        shape = feats[0].shape
        for m, x in enumerate(feats):
            if x.dim() != 4 or x.shape != shape:
                raise ValueError(f'{name}: stream {m} has shape {tuple(x.shape)}; every '
                                 f'stream must be (N, C, H, W) of shape {tuple(shape)}')
        if self.channels is not None and shape[1] != self.channels:
            raise ValueError(f'{name}(channels={self.channels}) got maps with '
                             f'{shape[1]} channels')
        return feats
