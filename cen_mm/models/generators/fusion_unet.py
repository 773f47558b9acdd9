"""``FusionUnetGenerator``: the translation fusion baselines of NeurIPS'20 Table 4 and
supplementary Table 6 (Concat, Average, Align, Self-att. at early / middle / late /
all-layer fusion).

M private encoder streams (pix2pix U-Net-256 encoders, unshared convs and norms) run up
to the last fusion layer K; a fusion module (:mod:`cen_mm.models.fusion`) merges the M
streams' features at every requested encoder layer l (1-based conv index: early = 1,
middle = 4, late = 8 = ``num_down``, all = 1..8, as NeurIPS'20 §4.2 / supp. §3); one
shared encoder trunk continues from the fused layer-K features (levels K+1..n) and one
decoder translates::

    stream m     x_m -> conv_1 -> ... -> conv_K           (private, per stream)
    fusion       F_l = fuse_l(h_{l,1}, ..., h_{l,M})       for every l in fusion_layers
    trunk        F_K -> conv_{K+1} -> ... -> conv_n         (one, shared)
    decoder      the U-Net decoder of :class:`CENUnetGenerator` (one), skip of level l:
                 F_l if l is fused, the trunk's features if l > K, else
                 ``unfused_skips`` ('none': no skip, 'concat' / 'mean' of the streams)

Levels follow :class:`CENUnetGenerator` (Pix2Pix): conv 4x4 stride 2, no norm on the
first and last encoder conv, LeakyReLU(0.2) before every encoder conv but the first,
ReLU -> deconv -> norm (-> dropout) -> concat skip in the decoder, tanh at the end.

With the default ``unfused_skips='none'`` the M streams meet *only* inside the fusion
modules (tested), so "late" fusion is an encoder-decoder without skips: the papers do
not say which skips their baselines kept; ``'concat'``/``'mean'`` are the alternatives.

Output (for :class:`cen_mm.translation.models.CENPix2Pix`, unchanged training): the one
fused prediction as ``ensemble`` (1, N, C, H, W) and repeated for every input as
``streams`` (1, M, N, C, H, W), so the model's per-stream GAN term pairs it with every
input as condition (as for CEN) — use ``loss_config=dict(ensemble_loss=False)`` so the
L1 term is not counted once more; ``losses`` holds ``loss_align`` (sum of the fusion
modules' ``last_loss``, AlignFusion's MK-MMD) when a fusion module keeps one.
"""
import inspect
from typing import Dict, List, Optional, Sequence, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import build_norm_layer
from mmengine.model import BaseModule
from mmengine.registry import MODELS

from .cen_unet import unet_channels
from .weight_init import pix2pix_normal_init

FUSION_POINTS = ('early', 'middle', 'late', 'all')
UNFUSED_SKIPS = ('none', 'concat', 'mean')


def fusion_layer_indices(fusion_layers: Union[str, int, Sequence[int]],
                         num_down: int) -> List[int]:
    """1-based encoder conv layers to fuse at: ``'early'`` -> [1], ``'middle'`` -> [4],
    ``'late'`` -> [num_down] (8: the U-Net-256 bottleneck), ``'all'`` -> 1..num_down,
    or explicit layer numbers."""
    if isinstance(fusion_layers, str):
        named = dict(early=[1], middle=[4], late=[num_down],
                     all=list(range(1, num_down + 1)))
        if fusion_layers not in named:
            raise ValueError(f'FusionUnetGenerator: fusion_layers={fusion_layers!r}; '
                             f'expected one of {FUSION_POINTS} or a list of 1-based '
                             f'encoder layers (1..{num_down})')
        layers = named[fusion_layers]
    elif isinstance(fusion_layers, int):
        layers = [fusion_layers]
    else:
        layers = sorted(set(int(layer) for layer in fusion_layers))
    if not layers or layers[0] < 1 or layers[-1] > num_down:
        raise ValueError(f'FusionUnetGenerator: fusion_layers={fusion_layers!r} gives '
                         f'layers {layers}; the encoder has layers 1..{num_down} '
                         f'(num_down={num_down}); "middle" needs num_down >= 4')
    return layers


def _build_fusion(fusion: dict, channels: int, num_streams: int,
                  norm_cfg: Optional[dict]) -> nn.Module:
    """Build one fusion module, filling ``num_streams`` and, if it takes them,
    ``channels`` and ``norm_cfg`` (the U-Net's norm where the fused layer has one,
    else ``None``: SSMA's norm follows Pix2Pix, none on the first / innermost layer)."""
    cfg = dict(fusion)
    cls = cfg.get('type')
    if isinstance(cls, str):
        cls = MODELS.get(cls)
    if cls is None:
        raise KeyError(f'FusionUnetGenerator: fusion type {fusion.get("type")!r} is '
                       'not registered; expected a module of cen_mm.models.fusion, '
                       "e.g. dict(type='ConcatFusion') (is cen_mm imported?)")
    params = inspect.signature(cls).parameters
    cfg.setdefault('num_streams', num_streams)
    if 'channels' in params:
        cfg.setdefault('channels', channels)
    if 'norm_cfg' in params:
        cfg.setdefault('norm_cfg', norm_cfg)
    cfg['type'] = cls
    return MODELS.build(cfg)


def _norm(norm_cfg: dict, channels: int, has_norm: bool) -> nn.Module:
    return build_norm_layer(norm_cfg, channels)[1] if has_norm else nn.Identity()


@MODELS.register_module()
class FusionUnetGenerator(BaseModule):
    """M-stream U-Net-256 fused at chosen encoder layers, one trunk, one decoder.

    Args:
        in_channels: channels of every input stream (depth etc. broadcast to 3).
        out_channels: channels of the output.
        num_inputs: M, input streams (filled in by ``CENPix2Pix`` from ``tasks``).
        num_tasks: must be 1 (one target; filled in by ``CENPix2Pix``).
        num_down: stride-2 levels (8 for 256 px).
        base_channels: channels of the first level (64).
        norm_cfg: the norm layer (``dict(type='IN', affine=True)``).
        fusion: config of the fusion module, e.g. ``dict(type='ConcatFusion')``,
            ``'AverageFusion'``, ``'AlignFusion'``, ``'SSMAFusion'``; ``num_streams``,
            ``channels`` (of the fused layer) and ``norm_cfg`` are filled in.
        fusion_layers: ``'early'`` (layer 1), ``'middle'`` (4), ``'late'``
            (``num_down``), ``'all'`` or a list of 1-based encoder layers.
        unfused_skips: skips of unfused layers before the last fusion layer:
            ``'none'`` (dropped; streams meet only in the fusion modules), ``'concat'``
            (decoder gets all M streams' features) or ``'mean'``.
        use_dropout, num_dropout, init_std, init_cfg: as :class:`CENUnetGenerator`.
    """

    def __init__(self,
                 in_channels: int = 3,
                 out_channels: int = 3,
                 num_inputs: int = 2,
                 num_tasks: int = 1,
                 num_down: int = 8,
                 base_channels: int = 64,
                 norm_cfg: Optional[dict] = None,
                 fusion: Optional[dict] = None,
                 fusion_layers: Union[str, int, Sequence[int]] = 'early',
                 unfused_skips: str = 'none',
                 use_dropout: bool = True,
                 num_dropout: int = 3,
                 init_std: float = 0.02,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        if num_tasks != 1:
            raise ValueError(f'FusionUnetGenerator translates M inputs to one target '
                             f'(num_tasks=1), got num_tasks={num_tasks}: use one task '
                             "in `tasks`, e.g. [dict(inputs=['reshading', "
                             "'edge_texture'], target='rgb')]")
        if num_inputs < 2:
            raise ValueError(f'FusionUnetGenerator fuses M >= 2 inputs, got '
                             f'num_inputs={num_inputs}')
        if num_down < 3:
            raise ValueError(f'num_down must be >= 3 (got {num_down})')
        if unfused_skips not in UNFUSED_SKIPS:
            raise ValueError(f'FusionUnetGenerator: unfused_skips={unfused_skips!r}; '
                             f'expected one of {UNFUSED_SKIPS}')
        if fusion is None:
            raise ValueError("FusionUnetGenerator needs `fusion`, e.g. "
                             "dict(type='ConcatFusion')")
        norm_cfg = dict(type='IN', affine=True) if norm_cfg is None else dict(norm_cfg)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.num_inputs = num_inputs
        self.num_tasks = 1
        self.num_down = num_down
        self.use_dropout = use_dropout
        self.num_dropout = num_dropout
        self.init_std = init_std
        self.unfused_skips = unfused_skips
        self.fusion_layers = fusion_layer_indices(fusion_layers, num_down)
        self.last_fused = self.fusion_layers[-1]  # K
        channels = unet_channels(num_down, base_channels)
        self.channels = channels
        n, K = num_down, self.last_fused

        def conv(i):
            return nn.Conv2d(in_channels if i == 0 else channels[i - 1], channels[i], 4,
                             2, 1)

        def has_norm(i):  # no norm on the first and the innermost encoder conv
            return 0 < i < n - 1

        # encoder levels 0 .. K-1 (layers 1..K), one private copy per stream
        self.stream_convs = nn.ModuleList(
            nn.ModuleList(conv(i) for i in range(K)) for _ in range(num_inputs))
        self.stream_norms = nn.ModuleList(
            nn.ModuleList(_norm(norm_cfg, channels[i], has_norm(i)) for i in range(K))
            for _ in range(num_inputs))
        # one fusion module per fused layer l (fuses level l-1's outputs)
        self.fusions = nn.ModuleDict({
            str(layer): _build_fusion(fusion, channels[layer - 1], num_inputs,
                                      norm_cfg if has_norm(layer - 1) else None)
            for layer in self.fusion_layers
        })
        # shared trunk: levels K .. n-1 (layers K+1..n)
        self.trunk_convs = nn.ModuleList(conv(i) for i in range(K, n))
        self.trunk_norms = nn.ModuleList(
            _norm(norm_cfg, channels[i], has_norm(i)) for i in range(K, n))

        # decoder (one): level k maps (level k features [+ skip of level k]) to the
        # resolution of level k-1
        def skip_channels(i):
            if i == n - 1 or (i + 1) in self.fusion_layers or i >= K:
                return channels[i] if i < n - 1 else 0
            return dict(none=0, mean=channels[i],
                        concat=num_inputs * channels[i])[unfused_skips]

        self.skip_channels = [skip_channels(i) for i in range(n)]
        self.up_convs = nn.ModuleList(
            nn.ConvTranspose2d(channels[k] + self.skip_channels[k],
                               out_channels if k == 0 else channels[k - 1], 4, 2, 1)
            for k in range(n))
        self.up_norms = nn.ModuleList(
            build_norm_layer(norm_cfg, channels[k - 1])[1] for k in range(1, n))

    # ---------------------------------------------------------------------------------
    def init_weights(self) -> None:
        if self.init_cfg is not None and self.init_cfg.get('type') == 'Pretrained':
            super().init_weights()
            return
        pix2pix_normal_init(self, self.init_std)
        self._is_init = True

    def _dropout_at(self, k: int) -> bool:
        return self.use_dropout and k >= self.num_down - self.num_dropout

    def _unfused_skip(self, feats: List[torch.Tensor]) -> Optional[torch.Tensor]:
        if self.unfused_skips == 'concat':
            return torch.cat(feats, dim=1)
        if self.unfused_skips == 'mean':
            return torch.stack(feats).mean(0)
        return None

    def forward(self, x: torch.Tensor,
                tasks: Optional[Sequence[int]] = None) -> Dict[str, torch.Tensor]:
        """Translate M stacked input streams into one fused prediction.

        Args:
            x: (M·N, C_in, H, W); rows ``[m·N, (m+1)·N)`` are input stream m.
            tasks: ``None`` or ``[0]`` (one task).

        Returns:
            dict with ``ensemble`` (1, N, C_out, H, W) in [-1, 1], the fused prediction;
            ``streams`` (1, M, N, C_out, H, W), the same prediction for every input (a
            view); ``losses``: ``{'loss_align': ...}`` if a fusion module keeps a
            ``last_loss``, else ``{}``.
        """
        if tasks is not None and list(tasks) != [0]:
            raise ValueError(f'FusionUnetGenerator has one task, got tasks={tasks}')
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f'FusionUnetGenerator expects (M*N, {self.in_channels}, '
                             f'H, W) inputs, got {tuple(x.shape)}')
        if x.shape[0] % self.num_inputs:
            raise ValueError(f'FusionUnetGenerator: batch {x.shape[0]} is not a '
                             f'multiple of the {self.num_inputs} input streams')
        size = 2**self.num_down
        if x.shape[2] % size or x.shape[3] % size:
            raise ValueError(f'FusionUnetGenerator with num_down={self.num_down} needs '
                             f'height and width divisible by {size}, got '
                             f'{tuple(x.shape[2:])}')
        n, K = self.num_down, self.last_fused
        batch = x.shape[0] // self.num_inputs

        skips: List[Optional[torch.Tensor]] = []
        feats = list(x.split(batch))
        fused = None
        for i in range(K):
            for m in range(self.num_inputs):
                h = feats[m] if i == 0 else F.leaky_relu(feats[m], 0.2)
                feats[m] = self.stream_norms[m][i](self.stream_convs[m][i](h))
            if str(i + 1) in self.fusions:
                fused = self.fusions[str(i + 1)](feats)
                skips.append(fused)
            else:
                skips.append(self._unfused_skip(feats))
        h = fused  # the layer-K fusion
        for j, i in enumerate(range(K, n)):
            h = self.trunk_norms[j](self.trunk_convs[j](F.leaky_relu(h, 0.2)))
            skips.append(h)

        for k in range(n - 1, -1, -1):
            h = self.up_convs[k](F.relu(h))
            if k == 0:
                h = torch.tanh(h)
                break
            h = self.up_norms[k - 1](h)
            if self._dropout_at(k):
                h = F.dropout(h, 0.5, self.training)
            if skips[k - 1] is not None:
                h = torch.cat([h, skips[k - 1]], dim=1)

        ensemble = h.unsqueeze(0)
        streams = ensemble.unsqueeze(1).expand(1, self.num_inputs, *h.shape)
        return dict(streams=streams, ensemble=ensemble, losses=self._fusion_losses())

    def _fusion_losses(self) -> Dict[str, torch.Tensor]:
        aux = [m.last_loss for m in self.fusions.values()
               if getattr(m, 'last_loss', None) is not None]
        return dict(loss_align=sum(aux)) if aux else {}

    def ensemble_weights(self) -> None:
        """No ensemble weights α: one fused output (``CENPix2Pix`` logs none)."""
        return None
