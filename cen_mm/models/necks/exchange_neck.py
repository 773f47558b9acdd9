"""``ExchangeNeck``: channel exchange on the decoder side, between backbone and head.

Per feature level: a 3x3 conv shared by all streams, a :class:`ModalityNorm` with
private norms and channel exchange, and ReLU (the TPAMI'23 "CEN-dec" idea: exchange
also where the decoder reads the features). The exchange itself is the core's
(:mod:`cen_mm.core.exchange`); this module only stacks the streams around it.

Input and output: :class:`~cen_mm.core.MultiStreamFeatures` of M streams, level l
stacked (M*N, C_l, H_l, W_l) in, (M*N, out_channels_l, H_l, W_l) out.
"""
from typing import Optional, Sequence, Union

import torch.nn as nn
from mmengine.model import BaseModule
from mmengine.registry import MODELS
from torch import Tensor

from ...core import ModalityNorm, MultiStreamFeatures, as_multi_stream


class ExchangeConv(nn.Module):
    """conv3x3 (shared) -> ModalityNorm(exchange=True) -> ReLU on (M*N, C, H, W)."""

    def __init__(self, in_channels: int, out_channels: int, num_streams: int,
                 norm_cfg: dict, threshold: float, exchange_mode: str):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False)
        self.norm = ModalityNorm(out_channels, num_streams, norm_cfg=norm_cfg,
                                 exchange=True, threshold=threshold,
                                 exchange_mode=exchange_mode)
        self.act = nn.ReLU()

    def forward(self, x: Tensor) -> Tensor:
        return self.act(self.norm(self.conv(x)))


@MODELS.register_module()
class ExchangeNeck(BaseModule):
    """Decoder-side channel exchange across M streams.

    Args:
        in_channels: channels per level, e.g. ``[256, 512, 1024, 2048]``.
        out_channels: an int for every level, or one per level.
        num_streams: M (>= 2).
        norm_cfg: config of one private norm layer (e.g. ``dict(type='BN')``).
        threshold: θ of the exchange.
        exchange_mode: ``'subpart'`` (papers) or ``'all'`` (official code).
        init_cfg: mmengine init config (default: Kaiming for the convs).
    """

    def __init__(self,
                 in_channels: Sequence[int],
                 out_channels: Union[int, Sequence[int]],
                 num_streams: int = 2,
                 norm_cfg: Optional[dict] = None,
                 threshold: float = 2e-2,
                 exchange_mode: str = 'subpart',
                 init_cfg: Optional[dict] = dict(
                     type='Kaiming', layer='Conv2d', nonlinearity='relu')):
        super().__init__(init_cfg)
        in_channels = list(in_channels)
        if isinstance(out_channels, int):
            out_channels = [out_channels] * len(in_channels)
        out_channels = list(out_channels)
        if len(out_channels) != len(in_channels):
            raise ValueError(
                f'ExchangeNeck: out_channels {out_channels} must be an int or have one '
                f'entry per level of in_channels {in_channels}')
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.num_streams = num_streams
        norm_cfg = dict(type='BN') if norm_cfg is None else norm_cfg
        self.levels = nn.ModuleList(
            ExchangeConv(c_in, c_out, num_streams, norm_cfg, threshold, exchange_mode)
            for c_in, c_out in zip(in_channels, out_channels))

    def forward(self, feats: MultiStreamFeatures) -> MultiStreamFeatures:
        feats = as_multi_stream(feats, self.num_streams, 'ExchangeNeck')
        if feats.num_levels != len(self.levels):
            raise ValueError(
                f'ExchangeNeck expects {len(self.levels)} levels per stream '
                f'(in_channels={self.in_channels}), got {feats.num_levels}')
        return feats.map(lambda level, x: self.levels[level](x))
