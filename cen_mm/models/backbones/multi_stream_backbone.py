"""``MultiStreamBackbone``: channel exchanging for any OpenMMLab backbone.

Give it an ordinary backbone config (mmseg or mmpretrain ``type=...``) and the channels
of each modality. It builds that backbone **once** (every conv, attention and MLP weight
shared by the M streams), replaces each of its norm layers by M private copies
(BN/SyncBN/GN/IN: :class:`~cen_mm.core.ModalityNorm`; LayerNorm, incl. mmpretrain's
``LayerNorm2d``: :class:`~cen_mm.core.ModalityLayerNorm`), and makes a chosen subset of
them exchange channels. The M streams are stacked stream-major along the batch
((M*N, L, H, W), as :class:`CENResNet`), so the backbone runs one call on the stack.

Which norms exchange (``exchange_layers``, a regex matched with ``re.fullmatch`` against
the norm's module name inside the backbone; default per family, :data:`FAMILY_EXCHANGE`):

* ResNet / ResNetV1c / ResNetV1d / ResNeXt (mmseg, mmpretrain): the BN after each 3x3
  conv (Bottleneck ``bn2``; BasicBlock ``bn1``, ``bn2``), as the CEN papers and
  :class:`CENResNet`;
* MixVisionTransformer (mmseg, SegFormer's MiT): ``norm1``/``norm2`` of every block;
* SwinTransformer (mmseg): ``norm1``/``norm2`` of every block;
* ConvNeXt (mmpretrain): the LayerNorm after the depthwise conv of every block.

State-dict keys are the stock backbone's under ``backbone.``, with the per-stream copies
below each norm (``backbone.layer1.0.bn2.norms.1.weight``), so a single-stream ImageNet
checkpoint inflates into every stream with the strict key report of
:mod:`~cen_mm.models.backbones.checkpoint_inflation`.
"""
import copy
import inspect
import math
import re
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmengine.logging import print_log
from mmengine.model import BaseModule
from mmengine.registry import MODELS
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.modules.instancenorm import _InstanceNorm

from cen_mm.core import ModalityNorm, MultiStreamFeatures
from cen_mm.core.exchange_patterns import refresh_on_accelerator
from cen_mm.core.modality_layer_norm import ModalityLayerNorm
from .checkpoint_inflation import (load_checkpoint_state_dict,
                                   load_single_stream_state_dict,
                                   single_stream_key_map)

#: backbone class name -> regex of the norms that exchange by default. ResNet-like
#: classes are resolved by their block type (see :func:`default_exchange_layers`).
FAMILY_EXCHANGE: Dict[str, str] = {
    'MixVisionTransformer': r'layers\.\d+\.1\.\d+\.norm[12]',
    'SwinTransformer': r'stages\.\d+\.blocks\.\d+\.norm[12]',
    'ConvNeXt': r'stages\.\d+\.\d+\.norm',
}
RESNET_BOTTLENECK_EXCHANGE = r'layer\d+\.\d+\.bn2'
RESNET_BASICBLOCK_EXCHANGE = r'layer\d+\.\d+\.bn[12]'


def default_exchange_layers(backbone: nn.Module) -> Optional[str]:
    """The default exchange pattern for ``backbone``'s family, or None if unknown."""
    name = type(backbone).__name__
    if name in FAMILY_EXCHANGE:
        return FAMILY_EXCHANGE[name]
    if name.startswith(('ResNet', 'ResNeXt')) and hasattr(backbone, 'layer1'):
        first_block = type(backbone.layer1[0]).__name__
        return (RESNET_BASICBLOCK_EXCHANGE if first_block == 'BasicBlock' else
                RESNET_BOTTLENECK_EXCHANGE)
    return None


def _channel_first_norm_cfg(layer: nn.Module) -> dict:
    """A norm_cfg that lets ModalityNorm's builder make a placeholder of the same kind
    (the real per-stream layers are deep copies of ``layer``)."""
    if isinstance(layer, nn.GroupNorm):
        return dict(type='GN', num_groups=layer.num_groups)
    if isinstance(layer, _InstanceNorm):
        return dict(type='IN', affine=layer.affine)
    return dict(type='BN')


def is_convertible_norm(module: nn.Module) -> bool:
    """Norm layers that get private per-stream copies."""
    return isinstance(module, (_BatchNorm, nn.GroupNorm, _InstanceNorm, nn.LayerNorm))


def private_norm(layer: nn.Module, num_streams: int, exchange: bool, threshold: float,
                 exchange_mode: str, shared: bool = False, name: str = '?',
                 exchange_replacement: Optional[dict] = None,
                 exchange_policy: Optional[dict] = None) -> ModalityNorm:
    """M private copies of ``layer`` (same type, eps, momentum, weights, buffers,
    ``requires_grad``) in a :class:`ModalityNorm` / :class:`ModalityLayerNorm`.
    ``exchange_replacement``: see :mod:`cen_mm.core.exchange_replacements` (channel-first
    norms only)."""
    if exchange and getattr(layer, 'weight', None) is None:
        raise ValueError(f'norm layer {name!r} ({layer}) has no affine weight: it '
                         'cannot exchange (the rule thresholds its γ); exclude it with '
                         'exchange_layers')
    if isinstance(layer, nn.LayerNorm):
        if exchange and exchange_policy is not None:
            raise ValueError(f'norm layer {name!r} is a LayerNorm: exchange_policy '
                             f'{exchange_policy!r} is implemented for channel-first norms '
                             '(BN/GN/IN) only; leave it None for this backbone')
        if exchange_replacement is not None:
            raise ValueError(f'norm layer {name!r} is a LayerNorm: exchange_replacement '
                             f'{exchange_replacement!r} is implemented for channel-first '
                             'norms (BN/GN/IN) only; leave it None for this backbone')
        if len(layer.normalized_shape) != 1:
            raise ValueError(f'norm layer {name!r}: only LayerNorms over one (channel) '
                             f'dimension are supported, got {layer.normalized_shape}')
        wrapper = ModalityLayerNorm(layer.normalized_shape[0], num_streams,
                                    exchange=exchange, threshold=threshold,
                                    exchange_mode=exchange_mode, shared=shared)
    else:
        wrapper = ModalityNorm(layer.num_features if hasattr(layer, 'num_features') else
                               layer.num_channels, num_streams,
                               norm_cfg=_channel_first_norm_cfg(layer), exchange=exchange,
                               threshold=threshold, exchange_mode=exchange_mode,
                               exchange_policy=exchange_policy if exchange else None,
                               shared=shared, exchange_replacement=exchange_replacement)
    copies = 1 if shared else num_streams
    wrapper.norms = nn.ModuleList(copy.deepcopy(layer) for _ in range(copies))
    wrapper.train(layer.training)
    return wrapper


def _accepts_in_channels(backbone_type) -> bool:
    """Whether the backbone class takes ``in_channels`` (most do; a few, e.g.
    mmpretrain's MobileNetV2, hard-code 3 input channels)."""
    cls = backbone_type
    if isinstance(backbone_type, str):
        with MODELS.switch_scope_and_registry(None) as registry:
            cls = registry.get(backbone_type)
        if cls is None:
            raise KeyError(f'MultiStreamBackbone: backbone type {backbone_type!r} is '
                           'not registered (use a scope prefix such as '
                           "'mmseg.' or 'mmpretrain.', or set default_scope)")
    params = inspect.signature(cls.__init__).parameters
    return 'in_channels' in params or any(
        p.kind == p.VAR_KEYWORD for p in params.values())


def stack_modalities(x: torch.Tensor, in_channels: Sequence[int]) -> torch.Tensor:
    """(N, sum(in_channels), H, W) -> (M*N, L, H, W), stream-major; modality m is tiled
    ``L / in_channels[m]`` times along channels, L = lcm(in_channels)."""
    if x.dim() != 4 or x.shape[1] != sum(in_channels):
        raise ValueError(
            f'MultiStreamBackbone expects (N, {sum(in_channels)}, H, W): the '
            f'modalities with channels {tuple(in_channels)} stacked along dim 1; got '
            f'{tuple(x.shape)}')
    L = math.lcm(*in_channels)
    parts = x.split(list(in_channels), dim=1)
    return torch.cat([p if p.shape[1] == L else p.repeat(1, L // p.shape[1], 1, 1)
                      for p in parts], dim=0)


@MODELS.register_module()
class MultiStreamBackbone(BaseModule):
    """Any OpenMMLab backbone as a Channel-Exchanging Network over M modalities.

    Args:
        backbone: config of an ordinary single-stream backbone, e.g.
            ``dict(type='mmseg.MixVisionTransformer', embed_dims=64, ...)`` or
            ``dict(type='mmpretrain.ConvNeXt', arch='tiny', ...)`` (the scope prefix
            may be left out inside a config of that scope). Its ``in_channels`` is set
            to L = lcm(in_channels) if it takes one. A ``Pretrained`` ``init_cfg`` or ``pretrained``
            in it is taken over by this wrapper (strict inflation into every stream).
        in_channels: channels of each modality in the stacked input, e.g. ``(3, 1)``.
        exchange: enable channel exchange (else private norms only: the no-exchange
            baseline with the same parameters).
        exchange_layers: regex (``re.fullmatch`` on the norm's module name inside the
            backbone, e.g. ``r'layers\\.\\d+\\.1\\.\\d+\\.norm1'``) of the norms that
            exchange; None: the family default (module docstring). Must match at
            least one norm when ``exchange=True``.
        exchange_threshold: θ. exchange_mode: ``'subpart'`` (papers) or ``'all'``.
        exchange_policy: which channels the exchanging norms replace; None: CEN's
            ``|γ| < θ`` (:mod:`cen_mm.core.exchange_policies`; BN/GN/IN norms only).
        shared_norms: ablation: one norm for all streams (requires exchange=False).
        norm_eval: keep every BatchNorm in eval mode while training (on top of the
            inner backbone's own ``norm_eval``, if it has one).
        pretrained / init_cfg: ``dict(type='Pretrained', checkpoint=PATH, prefix=None)``
            with an ordinary single-stream checkpoint of the inner backbone (mmseg or
            mmpretrain layout, a whole-model ``backbone.`` prefix is found
            automatically), copied into every stream, strict.
        exchange_replacement: what an exchanged channel gets in every exchanging norm;
            None: the other streams' mean (CEN); see
            :mod:`cen_mm.core.exchange_replacements` (BN/GN/IN norms only).
        init_missing_ok: regexes (``re.match`` on single-stream keys) of backbone keys
            a checkpoint may lack, which then keep their default initialisation and
            are logged, e.g. ``(r'norm[0-2]\\.',)`` for the extra output norms that
            dense-prediction ConvNeXt / Swin add to an ImageNet checkpoint.
        init_ignore_keys: regexes (``re.match`` on checkpoint keys, prefix stripped)
            of checkpoint keys to drop before the strict check (logged), e.g. the
            classifier's final ``norm.`` of an ImageNet Swin checkpoint.

    Shapes:
        input: (N, sum(in_channels), H, W), modalities stacked along channels.
        output: :class:`~cen_mm.core.MultiStreamFeatures`: the inner backbone's levels
        on the M streams stacked stream-major, each (M*N, C_l, H_l, W_l);
        ``.stream(m)`` gives stream m's levels (N, C_l, H_l, W_l).
    """

    def __init__(self,
                 backbone: dict,
                 in_channels: Sequence[int] = (3, 1),
                 exchange: bool = True,
                 exchange_layers: Optional[str] = None,
                 exchange_threshold: float = 2e-2,
                 exchange_mode: str = 'subpart',
                 shared_norms: bool = False,
                 norm_eval: bool = False,
                 init_missing_ok: Sequence[str] = (),
                 init_ignore_keys: Sequence[str] = (),
                 pretrained: Optional[str] = None,
                 init_cfg: Union[dict, None] = None,
                 exchange_policy: Optional[dict] = None,
                 exchange_replacement: Optional[dict] = None):
        if pretrained is not None:
            if init_cfg is not None:
                raise ValueError('MultiStreamBackbone: give either pretrained or '
                                 'init_cfg, not both')
            init_cfg = dict(type='Pretrained', checkpoint=pretrained)
        backbone = copy.deepcopy(dict(backbone))
        inner_pretrained = self._take_inner_pretrained(backbone)
        if inner_pretrained is not None:
            if init_cfg is not None:
                raise ValueError('MultiStreamBackbone: a Pretrained init_cfg is given '
                                 'both in backbone and in the wrapper: keep one')
            init_cfg = inner_pretrained
        if init_cfg is not None and init_cfg.get('type') != 'Pretrained':
            raise ValueError('MultiStreamBackbone: init_cfg must be None or '
                             f"dict(type='Pretrained', checkpoint=...), got {init_cfg}; "
                             'put other initialisers into the inner backbone config')
        super().__init__(init_cfg)
        in_channels = (in_channels, ) if isinstance(in_channels, int) else tuple(
            in_channels)
        if not in_channels or any(int(c) != c or c < 1 for c in in_channels):
            raise ValueError('in_channels must be a non-empty sequence of positive '
                             f'ints (channels per modality), got {in_channels}')
        num_streams = len(in_channels)
        if exchange and shared_norms:
            raise ValueError('shared_norms=True leaves no private norms to exchange '
                             'between: set exchange=False')
        if exchange and num_streams < 2:
            raise ValueError(f'exchange needs >= 2 streams, in_channels={in_channels} '
                             'gives 1: set exchange=False')
        self.in_channels = in_channels
        self.num_streams = num_streams
        self.stream_channels = math.lcm(*in_channels)
        self.exchange = exchange
        self.norm_eval = norm_eval
        self.init_missing_ok = tuple(init_missing_ok)
        self.init_ignore_keys = tuple(init_ignore_keys)
        self.exchange_replacement = exchange_replacement

        if 'type' not in backbone:
            raise ValueError(f'MultiStreamBackbone: backbone config needs a type: '
                             f'{backbone}')
        if _accepts_in_channels(backbone['type']):
            backbone.setdefault('in_channels', self.stream_channels)
        given = backbone.get('in_channels', self.stream_channels)
        if given != self.stream_channels:
            raise ValueError(
                f'MultiStreamBackbone: backbone.in_channels={given} but the streams '
                f'have L = lcm{in_channels} = {self.stream_channels} channels: leave '
                'backbone.in_channels out (it is set for you)')
        self.backbone = MODELS.build(backbone)

        if exchange and exchange_layers is None:
            exchange_layers = default_exchange_layers(self.backbone)
            if exchange_layers is None:
                raise ValueError(
                    f'MultiStreamBackbone: no default exchanging norms for '
                    f'{type(self.backbone).__name__}; set exchange_layers to a regex of '
                    f'norm names, e.g. one of: {self._norm_names()[:8]}')
        self.exchange_layers = exchange_layers if exchange else None
        if exchange_policy is not None and not exchange:
            raise ValueError('MultiStreamBackbone: exchange_policy needs exchange=True')
        self.exchange_policy = exchange_policy
        self.exchanging_norm_names = self._make_private_norms(
            num_streams, exchange_threshold, exchange_mode, shared_norms)

    # ---- construction --------------------------------------------------------------
    @staticmethod
    def _take_inner_pretrained(backbone: dict) -> Optional[dict]:
        pretrained = backbone.pop('pretrained', None)
        init_cfg = backbone.get('init_cfg')
        if isinstance(init_cfg, dict) and init_cfg.get('type') == 'Pretrained':
            backbone.pop('init_cfg')
            if pretrained is not None:
                raise ValueError('backbone config has both pretrained and a '
                                 'Pretrained init_cfg: keep one')
            return init_cfg
        return None if pretrained is None else dict(type='Pretrained',
                                                    checkpoint=pretrained)

    def _norm_names(self) -> List[str]:
        return [n for n, m in self.backbone.named_modules() if is_convertible_norm(m)]

    def _make_private_norms(self, num_streams, threshold, exchange_mode,
                            shared) -> Tuple[str, ...]:
        modules = dict(self.backbone.named_modules())
        exchanging = []
        for name in self._norm_names():
            exchange = bool(self.exchange_layers) and re.fullmatch(
                self.exchange_layers, name) is not None
            parent_name, _, child = name.rpartition('.')
            parent = modules[parent_name] if parent_name else self.backbone
            setattr(parent, child, private_norm(
                modules[name], num_streams, exchange, threshold, exchange_mode, shared,
                name, exchange_replacement=self.exchange_replacement if exchange else None,
                exchange_policy=self.exchange_policy))
            if exchange:
                exchanging.append(name)
        if self.exchange and not exchanging:
            raise ValueError(
                f'MultiStreamBackbone: exchange_layers={self.exchange_layers!r} matches '
                f'no norm layer of {type(self.backbone).__name__}; its norms are e.g. '
                f'{self._norm_names()[:8]}')
        return tuple(exchanging)

    # ---- forward -------------------------------------------------------------------
    def forward(self, x: torch.Tensor) -> MultiStreamFeatures:
        refresh_on_accelerator(self, x)  # one host read of γ for all exchanging norms
        outs = self.backbone(stack_modalities(x, self.in_channels))
        if isinstance(outs, torch.Tensor):
            outs = (outs, )
        return MultiStreamFeatures(outs, self.num_streams)

    def train(self, mode: bool = True):
        """Set train mode (the inner backbone keeps its frozen stages / norm_eval);
        with ``norm_eval`` every BatchNorm stays in eval mode."""
        super().train(mode)
        if mode and self.norm_eval:
            for module in self.modules():
                if isinstance(module, _BatchNorm):
                    module.eval()
        return self

    # ---- initialisation ------------------------------------------------------------
    def init_weights(self):
        """The inner backbone's default init, then strict inflation of a
        ``Pretrained`` single-stream checkpoint into every stream."""
        pretrained = self.init_cfg
        if self.is_init or not pretrained:
            super().init_weights()
            return
        self.init_cfg = None
        try:
            super().init_weights()
        finally:
            self.init_cfg = pretrained
        self.load_single_stream_checkpoint(pretrained['checkpoint'],
                                           prefix=pretrained.get('prefix'),
                                           map_location=pretrained.get(
                                               'map_location', 'cpu'))

    def load_single_stream_checkpoint(self, filename: str, prefix: Optional[str] = None,
                                      map_location='cpu') -> List[str]:
        """Load an ordinary single-stream checkpoint of the inner backbone into every
        stream (strict; keys matching ``init_missing_ok`` may be absent, checkpoint
        keys matching ``init_ignore_keys`` are dropped).

        Returns the model keys that kept their default initialisation.
        Raises :class:`CheckpointInflationError` naming missing / mis-shaped /
        unexpected keys.
        """
        key_map = single_stream_key_map(self.backbone)
        state_dict, prefix = load_checkpoint_state_dict(
            filename, prefix=prefix, map_location=map_location,
            expected_keys=set(key_map.values()))
        dropped = [k for k in state_dict
                   if any(re.match(p, k) for p in self.init_ignore_keys)]
        if dropped:
            state_dict = {k: v for k, v in state_dict.items() if k not in dropped}
            print_log(f'MultiStreamBackbone: ignoring {len(dropped)} checkpoint keys '
                      f'(init_ignore_keys): {dropped[:10]}', logger='current')
        kept = []
        if self.init_missing_ok:
            own = self.backbone.state_dict()
            state_dict = dict(state_dict)
            for key, src in key_map.items():
                if src not in state_dict and any(
                        re.match(p, src) for p in self.init_missing_ok):
                    state_dict[src] = own[key]
                    kept.append(key)
        source = f'{filename!r}' + (f' (keys under prefix {prefix!r})' if prefix else '')
        load_single_stream_state_dict(self.backbone, state_dict, source=source)
        if kept:
            print_log(f'MultiStreamBackbone: {len(kept)} keys not in {source} keep '
                      f'their default init (init_missing_ok): {kept[:10]}',
                      logger='current')
        print_log(f'MultiStreamBackbone: loaded {source} into {self.num_streams} '
                  'streams', logger='current')
        return kept
