"""``ModalityLayerNorm``: M private LayerNorms over a stream-major stacked batch, with
optional channel exchange, for channel-last tokens (Swin, MiT) and mmpretrain's
``LayerNorm2d`` (ConvNeXt, both data formats).

It is a :class:`~cen_mm.core.ModalityNorm` (same constructor, ``norms.{m}.*`` keys,
``gamma()``, ``exchange_mask()``, ``owner_mask``, ``exchange``, ``num_streams``), so the
sparsity / statistics hooks (:func:`~cen_mm.core.iter_exchanging_norms`), checkpoint
inflation and the ensemble see it without any LayerNorm-specific code. Only the forward
differs: LayerNorm normalises each token over its C channels, so the channel axis is the
*last* one for ``nn.LayerNorm`` and for ``LayerNorm2d(data_format='channel_last')``,
and axis 1 for ``LayerNorm2d(data_format='channel_first')``.

Exchange on LayerNorm (an extension of the papers, which define the rule for BN/IN):
the γ-threshold rule is applied to LN's per-channel scale ``weight`` exactly as to BN's
γ: channel c of stream m, in stream m's own sub-part, with ``|weight_m[c]| < θ`` takes
the mean over the other streams of their post-LN channel c (every token); the ℓ1
penalty of the sparsity hook acts on the same sub-part of ``weight``. A small LN scale
makes a channel carry little after the norm just as a small BN γ does. The difference:
BN normalises each channel over the batch, LN normalises each token over its channels,
so a replaced channel carries values normalised with the *other* streams' per-token
statistics. The rule is the papers'; its justification for LN is by analogy (their
analysis is for BN/IN).
"""
import inspect
from typing import List, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.registry import MODELS

from ..ops import stream_layer_norm as fused_ops
from .exchange import (_is_compiling, channel_exchange, exchange_by_indices,
                       exchange_indices)
from .modality_norm import ModalityNorm


def _stream_layer_norm(x: torch.Tensor, eps: float, weights, biases) -> torch.Tensor:
    """Channel-last LayerNorm of M stacked streams, stream m with its own affine
    ``weights[m]``, ``biases[m]`` (each (C,)): ``F.layer_norm`` on each stream's slice
    (exactly the stock layer's arithmetic), concatenated.

    ``x``: (M*N, *S, C) -> (M*N, *S, C), a new contiguous tensor.

    Why this form (profiled on MiT-B2, 96 px, 1 thread, docs/backbones.md): plain
    ``F.layer_norm`` calls and one ``torch.cat`` stay in ATen's C++ autograd (the cat's
    backward is a split into views). A custom ``autograd.Function`` writing each stream
    into one output with ``native_layer_norm.out`` was slower: ATen's ``.out`` variant
    of that op computes into new tensors and then copies all three outputs, and the
    Python ``Function`` adds per-call overhead at small token counts. Also measured
    and not faster (same kernels, so no less copying): one ``Function`` fusing
    ``native_layer_norm`` per stream, the concatenation and the exchange (forward and
    backward); the exchange done with ATen's autograd ops (``index_select`` /
    ``index_copy_``) on the per-stream outputs before the concatenation.
    """
    C = x.shape[-1]
    return torch.cat([F.layer_norm(x_m, (C, ), w, b, eps)
                      for x_m, w, b in zip(x.chunk(len(weights)), weights, biases)])


def _is_plain_layer_norm_call(layer: nn.Module, data_format: Optional[str]) -> bool:
    """Whether calling ``layer`` is ``F.layer_norm`` over the last dim with its own
    affine weight and bias (``nn.LayerNorm``; ``LayerNorm2d`` with
    ``data_format='channel_last'``)."""
    if layer.weight is None or layer.bias is None:
        return False
    if type(layer).forward is nn.LayerNorm.forward:
        return data_format is None
    return _takes_data_format(layer) and data_format == 'channel_last'


# layer class -> whether its forward takes ``data_format``. A plain dict, not
# ``functools.lru_cache``: torch.compile traces a dict look-up, but warns on every
# compile that it bypasses an lru_cache.
_TAKES_DATA_FORMAT: dict = {}


def _takes_data_format(layer: nn.Module) -> bool:
    """True for mmpretrain's ``LayerNorm2d`` (``forward(x, data_format=...)``).
    ``inspect.signature`` costs ~10 µs: read once per layer class, not per call."""
    layer_type = type(layer)
    known = _TAKES_DATA_FORMAT.get(layer_type)
    if known is None:
        known = 'data_format' in inspect.signature(layer_type.forward).parameters
        _TAKES_DATA_FORMAT[layer_type] = known
    return known


@MODELS.register_module()
class ModalityLayerNorm(ModalityNorm):
    """M private LayerNorm layers; see the module docstring.

    Args: as :class:`~cen_mm.core.ModalityNorm`; ``norm_cfg`` defaults to
    ``dict(type='LN')``. ``fused`` (default True): on the CPU in float32, run the
    channel-last LayerNorms and the exchange as one C++ op
    (:mod:`cen_mm.ops.stream_layer_norm`; bit-identical, faster) where it is
    available: always when channels are exchanged, without exchange from
    ``MIN_NUMEL_WITHOUT_EXCHANGE`` elements on (below it the op's fixed cost exceeds
    the concatenation it saves); False: always the eager path. An attribute too.

    Shapes:
        ``nn.LayerNorm``: (M*N, *S, C) -> (M*N, *S, C) (tokens, channel last).
        ``LayerNorm2d``: (M*N, C, H, W) with ``data_format='channel_first'`` (its
        default), (M*N, H, W, C) with ``'channel_last'``.
    """

    def __init__(self,
                 num_features: int,
                 num_streams: int,
                 norm_cfg: Optional[dict] = None,
                 exchange: bool = False,
                 threshold: float = 2e-2,
                 exchange_mode: str = 'subpart',
                 shared: bool = False,
                 fused: bool = True):
        super().__init__(num_features, num_streams,
                         norm_cfg=dict(type='LN') if norm_cfg is None else norm_cfg,
                         exchange=exchange, threshold=threshold,
                         exchange_mode=exchange_mode, shared=shared)
        self.fused = fused

    def _channel_axis(self, data_format: Optional[str]) -> int:
        if data_format is None:  # each layer's own default
            return 1 if _takes_data_format(self.norms[0]) else -1
        if data_format not in ('channel_first', 'channel_last'):
            raise ValueError("data_format must be 'channel_first' or 'channel_last', "
                             f'got {data_format!r}')
        return 1 if data_format == 'channel_first' else -1

    def forward(self, x: torch.Tensor, data_format: Optional[str] = None) -> torch.Tensor:
        M = self.num_streams
        if x.shape[0] % M:
            raise ValueError(
                f'ModalityLayerNorm expects the {M} streams stacked along the batch '
                f'dimension, but got batch {x.shape[0]}')
        axis = self._channel_axis(data_format)
        if x.shape[axis] != self.num_features:
            raise ValueError(f'ModalityLayerNorm built for {self.num_features} channels '
                             f'(axis {axis}) got input with shape {tuple(x.shape)}')
        kwargs = {} if data_format is None else dict(data_format=data_format)
        if self.shared:
            return self.norms[0](x, **kwargs)
        # Each stream's layer on its slice: exactly the stock layer's arithmetic. The
        # output is a new contiguous tensor nobody else holds, so the exchange may
        # change it in place.
        if axis == -1 and _is_plain_layer_norm_call(self.norms[0], data_format):
            weights = [n.weight for n in self.norms]
            biases = [n.bias for n in self.norms]
            # (a model pickled before the attribute existed: fused)
            if self.__dict__.get('fused', True) and fused_ops.applicable(x, weights):
                # the same values, one C++ op (cen_mm/ops/stream_layer_norm.py)
                pairs = self._exchanged_pairs() if self.exchange else None
                if pairs is not None and not len(pairs[0]):
                    pairs = None
                if (pairs is not None
                        or x.numel() >= fused_ops.MIN_NUMEL_WITHOUT_EXCHANGE):
                    return fused_ops.stream_layer_norm(x, weights, biases,
                                                       self.norms[0].eps, pairs)
            y = _stream_layer_norm(x, self.norms[0].eps, weights, biases)
        else:
            y = torch.cat([norm(c, **kwargs)
                           for norm, c in zip(self.norms, x.chunk(M))])
        if not self.exchange:
            return y
        if axis == 1:  # (M*N, C, *S)
            shape = (M, x.shape[0] // M, *y.shape[1:])
        else:  # (M*N, *S, C): every token of a stream is one "sample"
            shape = (M, y.numel() // (M * self.num_features), self.num_features)
        if (self.exchange_policy is None and not _is_compiling()
                and (y.device.type == 'cpu' or self.host_below_pattern() is not None)):
            # what channel_exchange does on the CPU (bit for bit), with the indices
            # kept between calls while the mask is unchanged
            return exchange_by_indices(y, self._exchange_channels(y.device), shape)
        return channel_exchange(y, self.exchange_mask(), streams_shape=shape)

    def _exchanged_pairs(self) -> tuple:
        """The threshold rule's replaced (stream, channel) pairs as two int64 (K,)
        CPU tensors, sorted stream-major, for the fused op; kept while the pattern of
        ``|γ| < θ`` is unchanged."""
        def build():
            pairs = self._plan_mask().detach().cpu().nonzero()
            return pairs[:, 0].contiguous(), pairs[:, 1].contiguous()

        return self._kept_while_below_unchanged('exchanged_pairs', (), build)

    def _exchange_channels(
            self, device: torch.device) -> Optional[List[Optional[torch.Tensor]]]:
        """:func:`~cen_mm.core.exchange.exchange_indices` of the threshold rule's
        (M, C) mask, kept while the pattern of ``|γ| < θ`` is unchanged (reading the
        indices on the host is what costs)."""
        return self._kept_while_below_unchanged(
            'exchange_channels', (device, ),
            lambda: exchange_indices(self._plan_mask(), device))
