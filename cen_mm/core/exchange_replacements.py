"""Exchange replacements: *what* a replaced (stream, channel) pair gets.

CEN replaces a channel ``i`` of stream ``m`` (selected by the exchange rule, e.g.
``|γ[m, i]| < θ`` inside m's sub-part) by the mean of the other streams' channel ``i``
(NeurIPS'20 Eq. 6). That default stays in :mod:`cen_mm.core.exchange` (its fast paths).
This module holds the alternatives of TPAMI'23 Table 12 (Fig. 10) and NeurIPS'20 §4.1
(items 3 and 5), built from ``ModalityNorm(exchange_replacement=dict(type=...))``:

======================  ==============================================================
type                    value of a replaced pair (m, i); M streams, C channels
======================  ==============================================================
``'mean_others'``       mean over m'≠m of x[m', i] — CEN (the default; the
                        :class:`ModalityNorm` then uses its fast path)
``'zero'``              0 — zero embedding / channel discarding (TPAMI Fig. 9a,
                        NeurIPS §4.1 item 5: fusion only by the ensemble)
``'ith_one_other'``     x[(m + offset) mod M, i] — the i-th channel of *one* other
                        modality (``offset=1``: the next stream)
``'same_evenly_spaced'`` [a]: mean of x[m, j] over the "evenly spaced" channels j
                        of stream m (see below), outside m's sparsity sub-part
``'same_random'``       [b]: x[m, r(m, i)], one random channel of stream m outside
                        the sub-part of i; r is drawn once (``seed``) and kept as a
                        buffer (saved in checkpoints), so runs and evaluation repeat
``'others_evenly_spaced'`` [c]: mean over m'≠m and the evenly spaced j of x[m', j]
``'others_evenly_spaced_and_ith'`` [c]+[d]: as [c], plus x[m', i] for every m'≠m
``'others_largest_gamma'`` mean over m'≠m of x[m', u_k(m')]: stream m's k-th replaced
                        channel (ascending index) takes the k-th *unused* channel of
                        m' (not replaced in m' now) in order of decreasing |γ[m']|
                        (cycling when m replaces more channels than m' has unused)
``'weighted_others'``   Σ_{m'≠m} w[m, i, m'] x[m', i]; w = softmax over m' of learned
                        logits (M, C, M-1), initialised to 0 (= CEN's mean); with M=2
                        w ≡ 1 (no trainable effect, as the paper's "same with CEN")
``'concat_conv'``       Σ_{m'≠m} W[m, i, m'] x[m', i] + b[m, i]: a 1×1 conv on the
                        concatenated i-th channels of the other streams, one conv
                        ((M-1) -> 1 channels) per replaced channel i of every stream
                        m (a grouped 1×1 conv); W (M, C, M-1) initialised to
                        1/(M-1), b (M, C) to 0, i.e. CEN's mean at initialisation
``'sum'``               x[m, i] + Σ_{m'≠m} x[m', i] (NeurIPS §4.1 item 3)
``'gated_sum'``         x[m, i] + σ(g[m, i]) Σ_{m'≠m} x[m', i], learned g (M, C)
                        initialised to 0 (gate 0.5)
======================  ==============================================================

Readings of what the papers leave open (each a choice, pinned by tests):

* **Evenly spaced channels** (Fig. 10 [a], [c]): the channels at the *same offset* in
  the other sub-parts. With sub-part bounds ``b_0 < ... < b_M`` (see ``subparts.py``)
  and ``i = b_p + j`` in sub-part p, they are ``b_q + min(j, size_q - 1)`` for every
  q ≠ p — M-1 channels spaced C/M apart, none of them under the sparsity constraint of
  the stream i belongs to ("beyond sparsity constraints"). [a] takes them from stream m,
  [c] from every other stream m'; [d] is channel i of the other streams (CEN).
* **Region [b]**: the channels of stream m outside the sub-part of i.
* **Summing activations** (NeurIPS §4.1 item 3, "discarding the 1st term in Equation
  6"): read as dropping Eq. 6's case split — the own activation is not kept *or*
  replaced but summed with the other streams'. ``scope='all'`` (our default for the
  ablation configs) sums on every channel of every stream of an exchanging layer,
  regardless of γ; ``scope='replaced'`` only on the pairs the exchange rule selects.
  The gated variant scales the other streams' sum by a learned per-(stream, channel)
  sigmoid gate.

Gradients: a replaced value passes no gradient to its own input; the values that
replace it (and learned weights) get theirs. The summing variants keep the own
activation as a summand, so it gets its gradient through that term.

Shapes: ``forward(streams, mask, gamma)`` with ``streams`` (M, N, C, L) post-norm
features (stream-major), ``mask`` (M, C) bool replaced pairs, ``gamma`` (M, C) detached
scaling factors; returns a new (M, N, C, L) tensor (``streams`` itself if nothing is
replaced).
"""
from typing import List, Optional, Tuple

import torch
import torch.nn as nn
from mmengine.registry import Registry

from .subparts import subpart_bounds

EXCHANGE_REPLACEMENTS = Registry('exchange replacement')

DEFAULT_REPLACEMENT = 'mean_others'


def build_exchange_replacement(cfg: Optional[dict], num_streams: int,
                               num_features: int) -> Optional[nn.Module]:
    """The replacement module of ``cfg`` for an M-stream, C-channel layer, or None for
    CEN's default (``None`` or ``dict(type='mean_others')``), which
    :class:`~cen_mm.core.ModalityNorm` runs on its fast path."""
    if cfg is None:
        return None
    if not isinstance(cfg, dict) or 'type' not in cfg:
        raise TypeError(f'exchange_replacement must be a dict with a "type" key '
                        f'(one of {sorted(EXCHANGE_REPLACEMENTS.module_dict)}), '
                        f'got {cfg!r}')
    cfg = dict(cfg)
    if cfg['type'] not in EXCHANGE_REPLACEMENTS.module_dict:
        raise KeyError(f'exchange_replacement type {cfg["type"]!r} is unknown; '
                       f'expected one of {sorted(EXCHANGE_REPLACEMENTS.module_dict)}')
    if cfg['type'] == DEFAULT_REPLACEMENT and len(cfg) == 1:
        return None
    return EXCHANGE_REPLACEMENTS.build(
        cfg, default_args=dict(num_streams=num_streams, num_features=num_features))


def _same_offset_channels(num_features: int, num_streams: int) -> torch.Tensor:
    """(C, M-1) long: for channel i, the channels at its offset in the other
    sub-parts (the "evenly spaced" channels), in sub-part order."""
    bounds = subpart_bounds(num_features, num_streams)
    table = []
    for i in range(num_features):
        p = max(q for q in range(num_streams) if bounds[q] <= i)
        j = i - bounds[p]
        table.append([bounds[q] + min(j, bounds[q + 1] - bounds[q] - 1)
                      for q in range(num_streams) if q != p])
    return torch.tensor(table, dtype=torch.long).view(num_features, num_streams - 1)


class ExchangeReplacement(nn.Module):
    """Base class: the value of every replaced pair is a weighted sum of source values
    ``x[s, :, c]``, given by :meth:`sources` (static tables or per call).

    Args:
        num_streams: M (>= 2).
        num_features: C.
        scope: ``'replaced'`` (the pairs of the exchange mask) or ``'all'`` (every
            channel of every stream; only the summing variants offer it).
    """
    scopes: Tuple[str, ...] = ('replaced', )

    def __init__(self, num_streams: int, num_features: int, scope: str = 'replaced'):
        super().__init__()
        if num_streams < 2:
            raise ValueError(f'{type(self).__name__} needs >= 2 streams, got '
                             f'{num_streams}')
        if scope not in self.scopes:
            raise ValueError(f'{type(self).__name__}: scope must be one of '
                             f'{self.scopes}, got {scope!r}')
        self.num_streams = num_streams
        self.num_features = num_features
        self.scope = scope

    def sources(self, targets: torch.Tensor, mask: torch.Tensor, gamma: torch.Tensor
                ) -> Tuple[torch.Tensor, torch.Tensor, Optional[torch.Tensor]]:
        """For the P replaced pairs ``targets`` (P, 2) = (stream, channel): source
        streams (P, K), source channels (P, K) and weights (P, K) (None: mean)."""
        raise NotImplementedError

    def bias(self, targets: torch.Tensor) -> Optional[torch.Tensor]:
        """(P,) additive term of every replaced pair, or None."""
        return None

    def forward(self, streams: torch.Tensor, mask: torch.Tensor,
                gamma: torch.Tensor) -> torch.Tensor:
        M, _, C = streams.shape[:3]
        if mask.shape != (M, C):
            raise ValueError(f'{type(self).__name__}: mask must have shape ({M}, {C}), '
                             f'got {tuple(mask.shape)}')
        if self.scope == 'all':
            mask = torch.ones_like(mask, dtype=torch.bool)
        targets = mask.nonzero()
        if targets.shape[0] == 0:
            return streams
        targets = targets.to(streams.device)
        src_stream, src_channel, weights = self.sources(targets, mask, gamma)
        gathered = streams[src_stream, :, src_channel]  # (P, K, N, L)
        if weights is None:
            values = gathered.mean(dim=1)
        else:
            values = (gathered * weights.to(gathered.dtype)[:, :, None, None]).sum(1)
        bias = self.bias(targets)
        if bias is not None:
            values = values + bias.to(values.dtype)[:, None, None]
        out = streams.clone()
        out[targets[:, 0], :, targets[:, 1]] = values
        return out

    def extra_repr(self) -> str:
        s = f'num_streams={self.num_streams}, num_features={self.num_features}'
        return s + (f', scope={self.scope!r}' if self.scope != 'replaced' else '')


class _StaticSources(ExchangeReplacement):
    """Sources fixed per (stream, channel): tables (M, C, K) in buffers."""

    def _set_tables(self, stream_table: torch.Tensor, channel_table: torch.Tensor,
                    persistent: bool = False) -> None:
        self.register_buffer('source_streams', stream_table, persistent=persistent)
        self.register_buffer('source_channels', channel_table, persistent=persistent)

    def weight_table(self) -> Optional[torch.Tensor]:
        """(M, C, K) weights, or None for the mean."""
        return None

    def sources(self, targets, mask, gamma):
        m, i = targets[:, 0], targets[:, 1]
        table = self.weight_table()
        return (self.source_streams[m, i], self.source_channels[m, i],
                None if table is None else table[m, i])


def _others(num_streams: int) -> torch.Tensor:
    """(M, M-1) long: the other streams of every stream, ascending."""
    return torch.tensor([[k for k in range(num_streams) if k != m]
                         for m in range(num_streams)], dtype=torch.long)


@EXCHANGE_REPLACEMENTS.register_module(name='mean_others')
class MeanOthersReplacement(_StaticSources):
    """CEN: mean over m'≠m of x[m', i] (reference implementation of the default;
    :class:`ModalityNorm` uses :mod:`cen_mm.core.exchange` for it)."""

    def __init__(self, num_streams, num_features):
        super().__init__(num_streams, num_features)
        others = _others(num_streams)  # (M, M-1)
        C = num_features
        self._set_tables(others[:, None, :].expand(-1, C, -1).clone(),
                         torch.arange(C)[None, :, None].expand(num_streams, -1,
                                                               num_streams - 1).clone())


@EXCHANGE_REPLACEMENTS.register_module(name='zero')
class ZeroReplacement(ExchangeReplacement):
    """Zero embedding / discarding: replaced pairs are set to 0 (no gradient)."""

    def forward(self, streams, mask, gamma):
        M, _, C = streams.shape[:3]
        if mask.shape != (M, C):
            raise ValueError(f'ZeroReplacement: mask must have shape ({M}, {C}), '
                             f'got {tuple(mask.shape)}')
        if not bool(mask.any()):
            return streams
        replaced = mask.to(streams.device).view(M, 1, C, 1)
        return streams.masked_fill(replaced, 0)


@EXCHANGE_REPLACEMENTS.register_module(name='ith_one_other')
class IthOneOtherReplacement(_StaticSources):
    """x[(m + offset) mod M, i]: the i-th channel of one other stream."""

    def __init__(self, num_streams, num_features, offset: int = 1):
        super().__init__(num_streams, num_features)
        if offset % num_streams == 0:
            raise ValueError(f'ith_one_other: offset {offset} picks the stream itself '
                             f'(M={num_streams}); use an offset not divisible by M')
        self.offset = offset
        M, C = num_streams, num_features
        streams = (torch.arange(M) + offset) % M
        self._set_tables(streams[:, None, None].expand(M, C, 1).clone(),
                         torch.arange(C)[None, :, None].expand(M, C, 1).clone())


@EXCHANGE_REPLACEMENTS.register_module(name='same_evenly_spaced')
class SameEvenlySpacedReplacement(_StaticSources):
    """[a]: mean of stream m's channels at i's offset in the other sub-parts."""

    def __init__(self, num_streams, num_features):
        super().__init__(num_streams, num_features)
        M, C = num_streams, num_features
        spaced = _same_offset_channels(C, M)  # (C, M-1)
        self._set_tables(torch.arange(M)[:, None, None].expand(M, C, M - 1).clone(),
                         spaced[None].expand(M, C, M - 1).clone())


@EXCHANGE_REPLACEMENTS.register_module(name='same_random')
class SameRandomReplacement(_StaticSources):
    """[b]: one random channel of stream m outside the sub-part of i, drawn once
    with ``seed`` at construction and kept (persistent buffer)."""

    def __init__(self, num_streams, num_features, seed: int = 0):
        super().__init__(num_streams, num_features)
        M, C = num_streams, num_features
        bounds = subpart_bounds(C, M)
        generator = torch.Generator().manual_seed(seed)
        channels = torch.empty(M, C, 1, dtype=torch.long)
        for i in range(C):
            p = max(q for q in range(M) if bounds[q] <= i)
            outside = [c for c in range(C) if not bounds[p] <= c < bounds[p + 1]]
            pick = torch.randint(len(outside), (M, ), generator=generator)
            channels[:, i, 0] = torch.tensor(outside)[pick]
        self.seed = seed
        self._set_tables(torch.arange(M)[:, None, None].expand(M, C, 1).clone(),
                         channels, persistent=True)


@EXCHANGE_REPLACEMENTS.register_module(name='others_evenly_spaced')
class OthersEvenlySpacedReplacement(_StaticSources):
    """[c] (``with_ith=False``) or [c]+[d] (``with_ith=True``): mean over m'≠m of
    the other streams' channels at i's offset in the other sub-parts (and i)."""

    def __init__(self, num_streams, num_features, with_ith: bool = False):
        super().__init__(num_streams, num_features)
        M, C = num_streams, num_features
        self.with_ith = with_ith
        spaced = _same_offset_channels(C, M)  # (C, M-1)
        if with_ith:
            spaced = torch.cat([torch.arange(C)[:, None], spaced], dim=1)  # (C, M)
        per_stream = spaced.shape[1]
        others = _others(M)  # (M, M-1)
        streams = others[:, None, :, None].expand(M, C, M - 1, per_stream)
        channels = spaced[None, :, None, :].expand(M, C, M - 1, per_stream)
        self._set_tables(streams.reshape(M, C, -1).clone(),
                         channels.reshape(M, C, -1).clone())


@EXCHANGE_REPLACEMENTS.register_module(name='others_evenly_spaced_and_ith')
class OthersEvenlySpacedAndIthReplacement(OthersEvenlySpacedReplacement):
    """[c]+[d]: :class:`OthersEvenlySpacedReplacement` with ``with_ith=True``."""

    def __init__(self, num_streams, num_features):
        super().__init__(num_streams, num_features, with_ith=True)


@EXCHANGE_REPLACEMENTS.register_module(name='others_largest_gamma')
class OthersLargestGammaReplacement(ExchangeReplacement):
    """Mean over m'≠m of the unused channels of m' with the largest |γ|: stream m's
    k-th replaced channel takes m′'s k-th channel in the order (unused first, then by
    decreasing |γ[m']|, ties by index), cycling over m′'s unused channels."""

    def sources(self, targets, mask, gamma):
        M = self.num_streams
        device = targets.device
        mask = mask.to(device)
        gamma = gamma.detach().abs().to(device)
        # unused channels first (key >= 0), by decreasing |γ|; stable for ties
        key = torch.where(mask, torch.full_like(gamma, -1.0), gamma)
        order = torch.sort(key, dim=1, descending=True, stable=True).indices  # (M, C)
        unused = (~mask).sum(dim=1).clamp(min=1)  # (M,)
        counts = mask.sum(dim=1)  # replaced per stream
        # rank k of every target within its stream (targets are stream-major, sorted)
        starts = torch.cumsum(counts, 0) - counts
        rank = torch.arange(targets.shape[0], device=device) - starts[targets[:, 0]]
        others = _others(M).to(device)[targets[:, 0]]  # (P, M-1)
        channels = order[others, rank[:, None] % unused[others]]
        return others, channels, None


@EXCHANGE_REPLACEMENTS.register_module(name='weighted_others')
class WeightedOthersReplacement(_StaticSources):
    """Σ_{m'≠m} softmax_{m'}(logits[m, i])·x[m', i]; ``logits`` (M, C, M-1) learned,
    initialised to 0 (CEN's mean)."""

    def __init__(self, num_streams, num_features):
        super().__init__(num_streams, num_features)
        M, C = num_streams, num_features
        base = MeanOthersReplacement(M, C)
        self._set_tables(base.source_streams, base.source_channels)
        self.logits = nn.Parameter(torch.zeros(M, C, M - 1))

    def weight_table(self):
        return self.logits.softmax(dim=-1)


@EXCHANGE_REPLACEMENTS.register_module(name='concat_conv')
class ConcatConvReplacement(_StaticSources):
    """1×1 conv of the concatenated i-th channels of the other streams: weight
    (M, C, M-1) initialised to 1/(M-1), bias (M, C) to 0 (CEN's mean at start)."""

    def __init__(self, num_streams, num_features):
        super().__init__(num_streams, num_features)
        M, C = num_streams, num_features
        base = MeanOthersReplacement(M, C)
        self._set_tables(base.source_streams, base.source_channels)
        self.weight = nn.Parameter(torch.full((M, C, M - 1), 1.0 / (M - 1)))
        self.bias_param = nn.Parameter(torch.zeros(M, C))

    def weight_table(self):
        return self.weight

    def bias(self, targets):
        return self.bias_param[targets[:, 0], targets[:, 1]]


def _own_then_others(num_streams: int, num_features: int) -> List[torch.Tensor]:
    """Source tables (M, C, M): stream m itself first, then the others, channel i."""
    M, C = num_streams, num_features
    streams = torch.cat([torch.arange(M)[:, None], _others(M)], dim=1)  # (M, M)
    return [streams[:, None, :].expand(M, C, M).clone(),
            torch.arange(C)[None, :, None].expand(M, C, M).clone()]


@EXCHANGE_REPLACEMENTS.register_module(name='sum')
class SumReplacement(_StaticSources):
    """x[m, i] + Σ_{m'≠m} x[m', i] on the replaced pairs or (``scope='all'``) on
    every channel."""
    scopes = ('replaced', 'all')

    def __init__(self, num_streams, num_features, scope: str = 'replaced'):
        super().__init__(num_streams, num_features, scope)
        self._set_tables(*_own_then_others(num_streams, num_features))
        self.register_buffer('ones', torch.ones(num_streams, num_features,
                                                num_streams), persistent=False)

    def weight_table(self):
        return self.ones


@EXCHANGE_REPLACEMENTS.register_module(name='gated_sum')
class GatedSumReplacement(_StaticSources):
    """x[m, i] + σ(gate[m, i])·Σ_{m'≠m} x[m', i]; ``gate`` (M, C) learned, init 0."""
    scopes = ('replaced', 'all')

    def __init__(self, num_streams, num_features, scope: str = 'replaced'):
        super().__init__(num_streams, num_features, scope)
        self._set_tables(*_own_then_others(num_streams, num_features))
        self.gate = nn.Parameter(torch.zeros(num_streams, num_features))

    def weight_table(self):
        M = self.num_streams
        gate = torch.sigmoid(self.gate)[:, :, None].expand(-1, -1, M - 1)
        return torch.cat([torch.ones_like(gate[:, :, :1]), gate], dim=2)
