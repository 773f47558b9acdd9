"""``CENResNet``: a multi-stream ResNet with shared convs, private norms and exchange.

The M input modalities are stacked *stream-major along the batch dimension*
((M*N, L, H, W), rows ``[m*N, (m+1)*N)`` = stream m), so each shared conv runs once for
all streams and each norm is a :class:`~cen_mm.core.ModalityNorm` (M private layers).
Channel exchange happens where the CEN papers put it: in the norm after every 3x3 conv
of a residual block (Bottleneck: ``bn2``; BasicBlock: ``bn1`` and ``bn2``). The stem,
1x1-conv and downsample norms are private without exchange.

Layout and semantics follow torchvision / mmseg's ``ResNet`` (``style='pytorch'``: the
stride sits on the 3x3 conv; ``deep_stem``: mmseg's ResNetV1c stem; BasicBlock dilates
only its first conv, as mmseg/mmpretrain do; ``contract_dilation`` as mmseg). State-dict
keys are torchvision's with the per-stream copies below them::

    conv1.weight, bn1.norms.{m}.weight, layer1.0.conv2.weight,
    layer1.0.bn2.norms.{m}.running_var, layer1.0.downsample.0.weight,
    layer1.0.downsample.1.norms.{m}.weight, stem.0.weight, stem.1.norms.{m}.weight ...

(unshared convs: ``layer1.0.conv2.convs.{m}.weight``). mmseg's ``ResNet`` is not
subclassed: it builds every norm of a block from one ``norm_cfg`` (exchange must be on
some norms only), names norms after mmcv's abbreviation of the layer type, and lives in
mmseg's registry while this backbone is scope-neutral.
"""
import math
import re
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.utils.checkpoint as cp
from mmcv.cnn import build_conv_layer
from mmengine.logging import print_log
from mmengine.model import BaseModule
from mmengine.registry import MODELS
from torch.nn.modules.batchnorm import _BatchNorm

from cen_mm.core import ModalityNorm, MultiStreamFeatures
from cen_mm.core.conditional_norm import ConditionalModalityNorm
from cen_mm.core.exchange_patterns import refresh_on_accelerator
from .checkpoint_inflation import (load_checkpoint_state_dict,
                                   load_single_stream_state_dict)


class _StreamLayers:
    """Builds the convs and norms of a CEN ResNet for M streams.

    ``conv``: shared ``nn.Conv2d`` or, for unshared convs, a ``ModalityConv2d``.
    ``norm``: a ``ModalityNorm``; ``exchange=True`` only where the papers exchange.
    """

    def __init__(self, num_streams, norm_cfg, exchange, exchange_threshold,
                 exchange_mode, shared_convs, shared_norms):
        self.num_streams = num_streams
        self.norm_cfg = norm_cfg
        self.exchange = exchange
        self.exchange_threshold = exchange_threshold
        self.exchange_mode = exchange_mode
        self.shared_norms = shared_norms
        self.conv_cfg = None if shared_convs else dict(
            type='ModalityConv2d', num_streams=num_streams)
        self.exchange_policy = None  # which channels are exchanged (None: |γ| < θ)
        self.conditional_norm = None  # CBN kwargs for the 3x3-conv norms, or None
        self.exchange_replacement = None  # what replaced channels get (None: mean)

    def conv(self, in_channels, out_channels, kernel_size, stride=1, dilation=1):
        padding = dilation * (kernel_size - 1) // 2
        return build_conv_layer(self.conv_cfg, in_channels, out_channels,
                                kernel_size, stride=stride, padding=padding,
                                dilation=dilation, bias=False)

    def norm(self, num_features, exchange=False):
        if exchange and self.conditional_norm is not None:  # CBN baseline
            return ConditionalModalityNorm(num_features, self.num_streams,
                                           norm_cfg=self.norm_cfg,
                                           **self.conditional_norm)
        return ModalityNorm(
            num_features,
            self.num_streams,
            norm_cfg=self.norm_cfg,
            exchange=exchange and self.exchange,
            threshold=self.exchange_threshold,
            exchange_mode=self.exchange_mode,
            shared=self.shared_norms,
            exchange_policy=self.exchange_policy if exchange and self.exchange else None,
            exchange_replacement=self.exchange_replacement
            if exchange and self.exchange else None)


class CENBasicBlock(nn.Module):
    """BasicBlock: 3x3 (stride, dilation) -> 3x3; both norms exchange.

    Shapes: (M*N, inplanes, H, W) -> (M*N, planes, H/stride, W/stride).
    """
    expansion = 1

    def __init__(self, layers: _StreamLayers, inplanes, planes, stride=1, dilation=1,
                 downsample=None, style='pytorch', with_cp=False):
        super().__init__()
        self.conv1 = layers.conv(inplanes, planes, 3, stride=stride, dilation=dilation)
        self.bn1 = layers.norm(planes, exchange=True)
        self.conv2 = layers.conv(planes, planes, 3)
        self.bn2 = layers.norm(planes, exchange=True)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.with_cp = with_cp

    def _residual(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        identity = x if self.downsample is None else self.downsample(x)
        out += identity
        return out

    def forward(self, x):
        if self.with_cp and x.requires_grad:
            out = cp.checkpoint(self._residual, x, use_reentrant=False)
        else:
            out = self._residual(x)
        return self.relu(out)


class CENBottleneck(nn.Module):
    """Bottleneck: 1x1 -> 3x3 (dilation) -> 1x1 (x4); only ``bn2`` exchanges.

    ``style='pytorch'`` puts the stride on the 3x3 conv (torchvision), ``'caffe'`` on the
    first 1x1 conv. Shapes: (M*N, inplanes, H, W) -> (M*N, 4*planes, H/s, W/s).
    """
    expansion = 4

    def __init__(self, layers: _StreamLayers, inplanes, planes, stride=1, dilation=1,
                 downsample=None, style='pytorch', with_cp=False):
        super().__init__()
        stride1, stride2 = (1, stride) if style == 'pytorch' else (stride, 1)
        self.conv1 = layers.conv(inplanes, planes, 1, stride=stride1)
        self.bn1 = layers.norm(planes)
        self.conv2 = layers.conv(planes, planes, 3, stride=stride2, dilation=dilation)
        self.bn2 = layers.norm(planes, exchange=True)
        self.conv3 = layers.conv(planes, planes * self.expansion, 1)
        self.bn3 = layers.norm(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.with_cp = with_cp

    def _residual(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        identity = x if self.downsample is None else self.downsample(x)
        out += identity
        return out

    def forward(self, x):
        if self.with_cp and x.requires_grad:
            out = cp.checkpoint(self._residual, x, use_reentrant=False)
        else:
            out = self._residual(x)
        return self.relu(out)


def _mmpretrain_stem_aliases(key: str):
    """Aliases of mmseg's V1c stem keys in mmpretrain's V1c stem (ConvModules):
    ``stem.3.weight`` <- ``stem.1.conv.weight``, ``stem.4.bias`` <- ``stem.1.bn.bias``."""
    match = key.split('.', 2)
    if len(match) == 3 and match[0] == 'stem' and match[1].isdigit():
        index = int(match[1])
        if index % 3 == 0:
            return [f'stem.{index // 3}.conv.{match[2]}']
        if index % 3 == 1:
            return [f'stem.{index // 3}.bn.{match[2]}']
    return []


@MODELS.register_module()
class CENResNet(BaseModule):
    """Channel-Exchanging ResNet over M modalities (scope-neutral, root ``MODELS``).

    Args:
        depth: 18, 34 (BasicBlock), 50, 101, 152 (Bottleneck).
        in_channels: channels of each modality in the stacked input, e.g. ``(3, 1)``
            for RGB + depth. M = ``len(in_channels)`` streams. Every modality is tiled
            along channels to L = lcm(in_channels) channels (depth 1 -> 3), the input
            channels of the (shared) first conv.
        num_stages: residual stages used (1-4).
        strides, dilations: per stage (first block's stride; dilation of the 3x3
            convs). PSPNet's D8 variant: ``strides=(1, 2, 1, 1),
            dilations=(1, 1, 2, 4)``.
        contract_dilation: as mmseg: the first block of a stage with dilation d > 1
            uses d // 2.
        out_indices: stages whose outputs are returned.
        style: ``'pytorch'`` (stride on the 3x3 conv, torchvision) or ``'caffe'``.
        deep_stem: mmseg's ResNetV1c stem (three 3x3 convs, keys ``stem.{0,1,3,4,6,7}``)
            instead of the 7x7 conv1/bn1.
        stem_channels, base_channels: widths of the stem and of the first stage.
        frozen_stages: stages to freeze (stem is stage 0); -1: none. Frozen parts
            have ``requires_grad=False`` and their norms stay in eval mode.
        norm_cfg: config of one private norm layer (mmcv style).
        norm_eval: keep every BatchNorm in eval mode during training (statistics
            frozen, γ/β still trained), the papers' segmentation setting.
        exchange: enable channel exchange (else private norms only).
        exchange_threshold: θ.
        exchange_mode: ``'subpart'`` (papers) or ``'all'`` (official code).
        shared_convs: ablation switch; ``False`` gives every stream private convs.
        shared_norms: ablation switch; ``True`` uses one norm for all streams
            (requires ``exchange=False``).
        with_cp: gradient checkpointing of each residual block.
        exchange_policy: which channels every exchanging norm replaces; None: CEN's
            ``|γ| < θ``. ``dict(type='fixed_ratio', ratio=0.3)`` / ``dict(type=
            'random', ratio=0.3)``: :mod:`cen_mm.core.exchange_policies`.
        exchange_layers: regex (``re.fullmatch`` on module names, e.g.
            ``r'layer\\d\\.0\\.bn2'``) selecting which of the 3x3-conv norms exchange;
            the others become private norms without exchange. None: all of them.
            Stage-wise exchange (NeurIPS'20 §4.1): the first block's ``bn2`` of each
            stage (Bottleneck; BasicBlock: ``bn1``, the strided conv's norm).
        conditional_norm: CBN baseline (NeurIPS'20 §4.1): the norm after every 3x3
            conv becomes a :class:`~cen_mm.core.conditional_norm.ConditionalModalityNorm`
            with these kwargs (``dict()`` for RGB -> depth); needs ``exchange=False``.
        exchange_replacement: what an exchanged channel gets, for every exchanging
            norm; None: the other streams' mean (CEN). See
            :mod:`cen_mm.core.exchange_replacements` (TPAMI'23 Table 12).
        pretrained: shorthand for ``init_cfg=dict(type='Pretrained',
            checkpoint=pretrained)`` (what mmseg's ``EncoderDecoder(pretrained=...)``
            passes to its backbone).
        init_cfg: ``None`` (Kaiming convs, norms γ=1, β=0) or
            ``dict(type='Pretrained', checkpoint=PATH, prefix=None)`` with an ordinary
            single-stream ResNet checkpoint (torchvision, mmpretrain or mmseg layout;
            a whole-model checkpoint's ``backbone.`` prefix is found automatically),
            copied into every stream; loading is strict (see
            :mod:`~cen_mm.models.backbones.checkpoint_inflation`).

    Shapes:
        input: (N, sum(in_channels), H, W), the modalities stacked along channels in
        the order of ``in_channels``.
        output: :class:`~cen_mm.core.MultiStreamFeatures`: the levels at
        ``out_indices`` on the M streams stacked stream-major, each
        (M*N, C_l, H_l, W_l); ``.stream(m)`` gives stream m's (N, C_l, H_l, W_l).
    """

    arch_settings = {
        18: (CENBasicBlock, (2, 2, 2, 2)),
        34: (CENBasicBlock, (3, 4, 6, 3)),
        50: (CENBottleneck, (3, 4, 6, 3)),
        101: (CENBottleneck, (3, 4, 23, 3)),
        152: (CENBottleneck, (3, 8, 36, 3)),
    }

    def __init__(self,
                 depth: int,
                 in_channels: Sequence[int] = (3, 1),
                 num_stages: int = 4,
                 strides: Sequence[int] = (1, 2, 2, 2),
                 dilations: Sequence[int] = (1, 1, 1, 1),
                 contract_dilation: bool = False,
                 out_indices: Sequence[int] = (0, 1, 2, 3),
                 style: str = 'pytorch',
                 deep_stem: bool = False,
                 stem_channels: int = 64,
                 base_channels: int = 64,
                 frozen_stages: int = -1,
                 norm_cfg: Optional[dict] = None,
                 norm_eval: bool = False,
                 exchange: bool = True,
                 exchange_threshold: float = 2e-2,
                 exchange_mode: str = 'subpart',
                 shared_convs: bool = True,
                 shared_norms: bool = False,
                 with_cp: bool = False,
                 pretrained: Optional[str] = None,
                 init_cfg=None,
                 exchange_replacement: Optional[dict] = None,
                 exchange_policy: Optional[dict] = None,
                 exchange_layers: Optional[str] = None,
                 conditional_norm: Optional[dict] = None):
        if pretrained is not None:
            # mmseg's EncoderDecoder(pretrained=...) sets `backbone.pretrained`
            if init_cfg is not None:
                raise ValueError(
                    'CENResNet: give either pretrained or init_cfg, not both')
            init_cfg = dict(type='Pretrained', checkpoint=pretrained)
        if init_cfg is None:
            # mmseg's ResNet default, without zero_init_residual: γ=0 in an
            # exchanging norm would exchange every channel from the first step.
            init_cfg = [
                dict(type='Kaiming', layer='Conv2d'),
                dict(type='Constant', val=1, layer=['_BatchNorm', 'GroupNorm'])
            ]
        super().__init__(init_cfg)
        if depth not in self.arch_settings:
            raise KeyError(f'invalid depth {depth} for CENResNet, expected one of '
                           f'{sorted(self.arch_settings)}')
        in_channels = (in_channels, ) if isinstance(in_channels, int) else tuple(
            in_channels)
        if not in_channels or any(int(c) != c or c < 1 for c in in_channels):
            raise ValueError('in_channels must be a non-empty sequence of positive '
                             f'ints (channels per modality), got {in_channels}')
        if not 1 <= num_stages <= 4:
            raise ValueError(f'num_stages must be in [1, 4], got {num_stages}')
        if len(strides) != num_stages or len(dilations) != num_stages:
            raise ValueError(f'strides {tuple(strides)} and dilations '
                             f'{tuple(dilations)} need {num_stages} entries '
                             '(num_stages)')
        out_indices = tuple(out_indices)
        if not out_indices or any(not 0 <= i < num_stages for i in out_indices):
            raise ValueError(f'out_indices {out_indices} must be in [0, {num_stages})')
        if style not in ('pytorch', 'caffe'):
            raise ValueError(f"style must be 'pytorch' or 'caffe', got {style!r}")
        if frozen_stages > num_stages:
            raise ValueError(f'frozen_stages={frozen_stages} exceeds num_stages='
                             f'{num_stages}')
        num_streams = len(in_channels)
        if exchange and shared_norms:
            raise ValueError('shared_norms=True leaves no private norms to exchange '
                             'between: set exchange=False')
        if exchange and num_streams < 2:
            raise ValueError(f'exchange needs >= 2 streams, in_channels={in_channels} '
                             'gives 1: set exchange=False')

        if (exchange_policy is not None or exchange_layers is not None) and not exchange:
            raise ValueError('CENResNet: exchange_policy / exchange_layers select what '
                             'is exchanged: they need exchange=True')
        if conditional_norm is not None and (exchange or shared_norms
                                             or num_streams < 2):
            raise ValueError('CENResNet: conditional_norm (CBN) replaces the exchange '
                             'by modulation: it needs exchange=False, '
                             'shared_norms=False and >= 2 streams')
        if conditional_norm is not None and not isinstance(conditional_norm, dict):
            raise ValueError('CENResNet: conditional_norm must be a dict of '
                             'ConditionalModalityNorm kwargs (e.g. dict(source_stream=0,'
                             f' target_stream=1)), got {conditional_norm!r}')

        self.depth = depth
        self.in_channels = in_channels
        self.num_streams = num_streams
        self.stream_channels = math.lcm(*in_channels)
        self.num_stages = num_stages
        self.strides = tuple(strides)
        self.dilations = tuple(dilations)
        self.contract_dilation = contract_dilation
        self.out_indices = out_indices
        self.style = style
        self.deep_stem = deep_stem
        self.frozen_stages = frozen_stages
        self.norm_cfg = dict(type='BN', requires_grad=True) if norm_cfg is None \
            else dict(norm_cfg)
        self.norm_eval = norm_eval
        self.exchange = exchange
        self.shared_convs = shared_convs
        self.shared_norms = shared_norms
        self.with_cp = with_cp

        layers = _StreamLayers(num_streams, self.norm_cfg, exchange,
                               exchange_threshold, exchange_mode, shared_convs,
                               shared_norms)
        layers.exchange_replacement = exchange_replacement
        layers.exchange_policy = exchange_policy
        if conditional_norm is not None:  # the 3x3-conv norm sites become CBN
            layers.conditional_norm = dict(conditional_norm)
        self._make_stem(layers, self.stream_channels, stem_channels)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)

        block, stage_blocks = self.arch_settings[depth]
        self.res_layers = []
        inplanes = stem_channels
        out_channels = []
        for i, num_blocks in enumerate(stage_blocks[:num_stages]):
            planes = base_channels * 2**i
            layer = self._make_res_layer(layers, block, inplanes, planes, num_blocks,
                                         self.strides[i], self.dilations[i])
            inplanes = planes * block.expansion
            out_channels.append(inplanes)
            self.add_module(f'layer{i + 1}', layer)
            self.res_layers.append(f'layer{i + 1}')
        #: channels of each returned feature level
        self.out_channels = tuple(out_channels[i] for i in out_indices)
        self.exchange_layers = exchange_layers
        if exchange_layers is not None:
            self._keep_exchange_in(layers, exchange_layers)
        self._freeze_stages()

    # ---- construction --------------------------------------------------------------
    def _make_stem(self, layers, in_channels, stem_channels):
        if self.deep_stem:
            half = stem_channels // 2
            self.stem = nn.Sequential(
                layers.conv(in_channels, half, 3, stride=2), layers.norm(half),
                nn.ReLU(inplace=True),
                layers.conv(half, half, 3), layers.norm(half),
                nn.ReLU(inplace=True),
                layers.conv(half, stem_channels, 3), layers.norm(stem_channels),
                nn.ReLU(inplace=True))
        else:
            self.conv1 = layers.conv(in_channels, stem_channels, 7, stride=2)
            self.bn1 = layers.norm(stem_channels)
            self.relu = nn.ReLU(inplace=True)

    def _keep_exchange_in(self, layers, pattern: str):
        """Turn every exchanging norm whose name does not ``re.fullmatch`` ``pattern``
        into a private norm without exchange."""
        kept = []
        for name, module in list(self.named_modules()):
            if not (isinstance(module, ModalityNorm) and module.exchange):
                continue
            if re.fullmatch(pattern, name):
                kept.append(name)
                continue
            parent_name, _, child = name.rpartition('.')
            setattr(self.get_submodule(parent_name), child,
                    layers.norm(module.num_features))
        if not kept:
            raise ValueError(
                f'CENResNet: exchange_layers={pattern!r} matches none of the exchanging '
                "norms (the 3x3-conv norms, e.g. 'layer1.0.bn2'); stage-wise: "
                "r'layer\\d\\.0\\.bn2' (Bottleneck) or r'layer\\d\\.0\\.bn1' (BasicBlock)")

    def _make_res_layer(self, layers, block, inplanes, planes, num_blocks, stride,
                        dilation):
        downsample = None
        if stride != 1 or inplanes != planes * block.expansion:
            downsample = nn.Sequential(
                layers.conv(inplanes, planes * block.expansion, 1, stride=stride),
                layers.norm(planes * block.expansion))
        first_dilation = dilation // 2 if (self.contract_dilation
                                           and dilation > 1) else dilation
        blocks = [
            block(layers, inplanes, planes, stride=stride, dilation=first_dilation,
                  downsample=downsample, style=self.style, with_cp=self.with_cp)
        ]
        for _ in range(1, num_blocks):
            blocks.append(
                block(layers, planes * block.expansion, planes, dilation=dilation,
                      style=self.style, with_cp=self.with_cp))
        return nn.Sequential(*blocks)

    # ---- forward -------------------------------------------------------------------
    def stack_streams(self, x: torch.Tensor) -> torch.Tensor:
        """(N, sum(in_channels), H, W) -> (M*N, L, H, W), stream-major.

        Modality m (``in_channels[m]`` channels) is tiled ``L / in_channels[m]`` times
        along channels (depth d -> d, d, d).
        """
        if x.dim() != 4 or x.shape[1] != sum(self.in_channels):
            raise ValueError(
                f'CENResNet expects (N, {sum(self.in_channels)}, H, W): the modalities '
                f'with channels {self.in_channels} stacked along dim 1; got '
                f'{tuple(x.shape)}')
        L = self.stream_channels
        parts = x.split(self.in_channels, dim=1)
        return torch.cat([p if p.shape[1] == L else p.repeat(1, L // p.shape[1], 1, 1)
                          for p in parts], dim=0)

    def forward(self, x: torch.Tensor) -> MultiStreamFeatures:
        refresh_on_accelerator(self, x)  # one host read of γ for all exchanging norms
        x = self.stack_streams(x)
        if self.deep_stem:
            x = self.stem(x)
        else:
            x = self.relu(self.bn1(self.conv1(x)))
        x = self.maxpool(x)
        levels = []
        for i, name in enumerate(self.res_layers):
            x = getattr(self, name)(x)
            if i in self.out_indices:
                levels.append(x)
        # the stacked (M*N, C_l, H_l, W_l) levels; per-stream views on request
        return MultiStreamFeatures(levels, self.num_streams)

    # ---- training mode -------------------------------------------------------------
    def _freeze_stages(self):
        if self.frozen_stages >= 0:
            stem = [self.stem] if self.deep_stem else [self.conv1, self.bn1]
            for module in stem:
                module.eval()
                for param in module.parameters():
                    param.requires_grad = False
        for i in range(1, self.frozen_stages + 1):
            layer = getattr(self, f'layer{i}')
            layer.eval()
            for param in layer.parameters():
                param.requires_grad = False

    def train(self, mode: bool = True):
        """Set train mode, keeping frozen stages and (``norm_eval``) BN in eval."""
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for module in self.modules():
                if isinstance(module, _BatchNorm):
                    module.eval()
        return self

    # ---- initialisation ------------------------------------------------------------
    def init_weights(self):
        """Default init (``init_cfg``), then strict inflation of a ``Pretrained``
        single-stream checkpoint into every stream."""
        cfgs = self.init_cfg if isinstance(self.init_cfg, list) else [self.init_cfg]
        pretrained = [c for c in cfgs if c and c.get('type') == 'Pretrained']
        if len(pretrained) > 1:
            raise ValueError(
                f'CENResNet: more than one Pretrained init_cfg: {pretrained}')
        if not pretrained or self.is_init:
            super().init_weights()
            return
        pretrained = pretrained[0]
        others = [c for c in cfgs if c and c.get('type') != 'Pretrained']
        saved, self.init_cfg = self.init_cfg, others
        try:
            super().init_weights()
        finally:
            self.init_cfg = saved
        self.load_single_stream_checkpoint(pretrained['checkpoint'],
                                           prefix=pretrained.get('prefix'),
                                           map_location=pretrained.get(
                                               'map_location', 'cpu'))

    def load_single_stream_checkpoint(self, filename: str, prefix: Optional[str] = None,
                                      map_location='cpu'):
        """Load an ordinary single-stream ResNet checkpoint into every stream.

        Accepts torchvision (``conv1.weight``, ``fc.*``), mmpretrain (``backbone.`` +
        ``head.*``, V1c stem ``stem.{i}.conv/bn``) and mmseg (``backbone.`` +
        ``decode_head.*``, V1c ``stem.*``) layouts. Raises
        :class:`CheckpointInflationError` naming missing / mis-shaped / unexpected keys.
        """
        expected = {'stem.0.weight', 'stem.0.conv.weight'} if self.deep_stem else {
            'conv1.weight'}
        state_dict, prefix = load_checkpoint_state_dict(filename, prefix=prefix,
                                                        map_location=map_location,
                                                        expected_keys=expected)
        source = f'{filename!r}' + (f' (keys under prefix {prefix!r})' if prefix else '')
        load_single_stream_state_dict(self, state_dict, source=source,
                                      key_aliases=_mmpretrain_stem_aliases)
        print_log(f'CENResNet: loaded {source} into {self.num_streams} streams',
                  logger='current')
