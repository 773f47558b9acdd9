"""``SelectStream``: use one stream of a multi-stream backbone in single-stream models."""
from typing import List, Tuple

import torch.nn as nn
from mmengine.registry import MODELS
from torch import Tensor


@MODELS.register_module()
class SelectStream(nn.Module):
    """Neck that turns the M-stream backbone output into one stream's levels.

    Input: list of M tuples of levels (what ``CENResNet`` returns).
    Output: the tuple of stream ``index``, e.g. for mmseg's stock ``EncoderDecoder`` or
    mmpretrain's ``ImageClassifier`` when a single stream is wanted.
    """

    def __init__(self, index: int = 0):
        super().__init__()
        self.index = index

    def forward(self, streams: List[Tuple[Tensor, ...]]) -> Tuple[Tensor, ...]:
        if not isinstance(streams, (list, tuple)) or not streams or \
                not isinstance(streams[0], (list, tuple)):
            raise TypeError('SelectStream expects a list of per-stream tuples of '
                            f'feature levels, got {type(streams).__name__}')
        if not -len(streams) <= self.index < len(streams):
            raise IndexError(f'SelectStream(index={self.index}) but the backbone has '
                             f'{len(streams)} streams')
        return tuple(streams[self.index])
