"""``StreamHeads``: M private copies of one decode head, one per stream.

The "unshared" rows of the CEN ablations (NeurIPS'20 Table 1 row 1, supplementary
Table 7 = TPAMI'23 Table 1) are separate networks per modality, *decoder included*
(the row equals the uni-modal baselines of Table 2, 118.1M parameters each).
``CENEncoderDecoder(shared_heads=False)`` keeps its decode (and auxiliary) head as a
``StreamHeads``: stream m's features go through ``heads[m]`` only.

For everything mmseg reads from a decode head (``align_corners``, ``num_classes``,
``out_channels``, ``threshold``, ``ignore_index``, ``loss_by_feat``,
``predict_by_feat``) it answers with the first copy: all copies are built from the same
config, so these agree (losses and post-processing have no parameters).
"""
from typing import List, Sequence

import torch
import torch.nn as nn
from mmseg.registry import MODELS
from torch import Tensor

from cen_mm.core import MultiStreamFeatures


class StreamHeads(nn.Module):
    """M heads built from one config; ``heads[m]`` serves stream m.

    Args:
        head_cfg: config of one decode head (any mmseg decode head).
        num_streams: M.

    State-dict keys: ``heads.{m}.<the head's own keys>``.
    """

    def __init__(self, head_cfg: dict, num_streams: int):
        super().__init__()
        if num_streams < 1:
            raise ValueError(
                f'StreamHeads: num_streams must be >= 1, got {num_streams}')
        self.num_streams = num_streams
        self.heads = nn.ModuleList(MODELS.build(head_cfg) for _ in range(num_streams))

    # ---- what mmseg and CENEncoderDecoder read from a decode head ---------------
    @property
    def align_corners(self) -> bool:
        return self.heads[0].align_corners

    @property
    def num_classes(self) -> int:
        return self.heads[0].num_classes

    @property
    def out_channels(self) -> int:
        return self.heads[0].out_channels

    @property
    def threshold(self):
        return self.heads[0].threshold

    @property
    def ignore_index(self) -> int:
        return self.heads[0].ignore_index

    def loss_by_feat(self, seg_logits: Tensor, batch_data_samples) -> dict:
        """The (parameter-free) loss of one head on one stream's logits."""
        return self.heads[0].loss_by_feat(seg_logits, batch_data_samples)

    def predict_by_feat(self, seg_logits: Tensor,
                        batch_img_metas: List[dict]) -> Tensor:
        """Resize logits to the input size, as every copy would."""
        return self.heads[0].predict_by_feat(seg_logits, batch_img_metas)

    # ---- forward ----------------------------------------------------------------
    def forward_streams(self, feats: MultiStreamFeatures,
                        streams: Sequence[int]) -> List[Tensor]:
        """Stream m's levels through ``heads[m]``, for each m in ``streams``.

        Args:
            feats: the M streams' levels (``feats.stream(m)``: (N, C_l, H_l, W_l)).
            streams: the stream indices wanted.

        Returns:
            One (N, K, h, w) logits tensor per entry of ``streams``.
        """
        return [self.heads[m](feats.stream(m)) for m in streams]

    def forward(self, inputs: Sequence[Tensor]) -> Tensor:
        """Stacked levels (M*N, C_l, H_l, W_l), stream-major -> (M*N, K, h, w)."""
        feats = MultiStreamFeatures(inputs, self.num_streams)
        return torch.cat(self.forward_streams(feats, range(self.num_streams)))
