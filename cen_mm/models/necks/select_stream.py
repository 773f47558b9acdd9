"""``SelectStream``: use one stream of a multi-stream backbone in single-stream models."""
from typing import Tuple

import torch.nn as nn
from mmengine.registry import MODELS
from torch import Tensor

from ...core import MultiStreamFeatures, as_multi_stream


@MODELS.register_module()
class SelectStream(nn.Module):
    """Neck that turns the M-stream backbone output into one stream's levels.

    Input: :class:`~cen_mm.core.MultiStreamFeatures` (what ``CENResNet`` returns).
    Output: the tuple of stream ``index``'s levels, each (N, C_l, H_l, W_l), e.g. for mmseg's stock ``EncoderDecoder`` or
    mmpretrain's ``ImageClassifier`` when a single stream is wanted.
    """

    def __init__(self, index: int = 0):
        super().__init__()
        self.index = index

    def forward(self, streams: MultiStreamFeatures) -> Tuple[Tensor, ...]:
        streams = as_multi_stream(streams, what='SelectStream')
        if not -len(streams) <= self.index < len(streams):
            raise IndexError(f'SelectStream(index={self.index}) but the backbone has '
                             f'{len(streams)} streams')
        return streams[self.index]
