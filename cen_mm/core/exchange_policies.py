"""Exchange policies: *which* (stream, channel) pairs of an exchanging norm are replaced.

CEN's rule (NeurIPS'20 Eq. 6) replaces the channels whose scaling factor is small,
``|γ[m, c]| < θ``, inside stream m's own sub-part: that is the default (``policy=None``,
see :mod:`cen_mm.core.exchange`) and the fast path of
:class:`~cen_mm.core.ModalityNorm`. The ablations of the papers replace channels chosen
without looking at γ (TPAMI'23 Table 1, NeurIPS'20 §4.1):

* ``dict(type='fixed_ratio', ratio=0.3, position='first')`` — "exchanging a fixed
  portion of 30% channels" (without ℓ1 and threshold): stream m always replaces the
  first (or last) ``round(ratio * K_m)`` channels of its K_m candidate channels (its
  own sub-part, or all channels with ``exchange_mode='all'``). Same channels in training
  and test; with sub-parts no channel is replaced in two streams.
* ``dict(type='random', ratio=0.3, test_mode='expected')`` — "exchange channels
  randomly like ShuffleNet": every training forward pass, stream m replaces
  ``round(ratio * K_m)`` channels drawn uniformly without replacement from its
  candidates (``torch.randperm`` on the default CPU generator, so
  ``randomness=dict(seed=...)`` / ``torch.manual_seed`` reproduces the draws). At test
  time (the norm's ``eval()``) ``test_mode`` decides: ``'expected'`` (default): the
  expectation of the random exchange, ``x' = (1 - p)·x + p·mean_others`` on every
  candidate channel with ``p = round(ratio*K_m)/K_m`` (deterministic, as dropout's test
  rule); ``'fixed'``: the channels of the fixed-ratio policy; ``'random'``: keep drawing.
* ``dict(type='threshold')`` — the default rule, spelled out (same as ``None``).

``round(r*K)`` rounds half up (``floor(r*K + 0.5)``): 30% of a 32-channel sub-part is 10.

Which *layers* exchange (e.g. stage-wise exchange: one norm per ResNet stage) is not a
policy but the backbones' ``exchange_layers`` selection.

A policy returns, per call, an (M, C) bool mask of replaced pairs (replacement and
gradients exactly as for the threshold rule: the replaced value passes no gradient, the
replacing values do) or, for ``test_mode='expected'``, an (M, C) float tensor of
replacement weights ``p`` (a blend, gradients through both terms).
"""
import math
from typing import Optional

import torch
from mmengine.registry import Registry

from .exchange import exchange_mask

#: name -> policy class (``type`` of an ``exchange_policy`` dict)
EXCHANGE_POLICIES = Registry('exchange policy', scope='cen_mm')


def num_replaced(num_candidates: int, ratio: float) -> int:
    """Channels a stream replaces out of ``num_candidates``: ``floor(ratio*K + 0.5)``."""
    return min(num_candidates, int(math.floor(ratio * num_candidates + 0.5)))


def _check_ratio(name: str, ratio: float) -> float:
    ratio = float(ratio)
    if not 0.0 <= ratio <= 1.0:
        raise ValueError(f'exchange_policy {name!r}: ratio must be in [0, 1] (the '
                         f'fraction of each stream\'s candidate channels it replaces), '
                         f'got {ratio}')
    return ratio


class ExchangePolicy:
    """Base class. ``mask(gamma, candidates, threshold, training)`` -> (M, C) bool
    mask of replaced pairs, or (M, C) float replacement weights (a soft blend).

    Args of ``mask``: ``gamma`` (M, C) scaling factors (detached), ``candidates``
    (M, C) bool channels a stream may replace (its sub-part, or all), ``threshold`` θ,
    ``training`` the norm's mode.
    """

    def static_mask(self, training: bool) -> bool:
        """True if ``mask`` returns the same bool mask for the same γ on every call
        (so it may be cached, and ``ModalityNorm.exchange_mask`` recomputes it)."""
        return True

    def mask(self, gamma: torch.Tensor, candidates: torch.Tensor, threshold: float,
             training: bool) -> torch.Tensor:
        raise NotImplementedError


@EXCHANGE_POLICIES.register_module(name='threshold')
class ThresholdExchange(ExchangePolicy):
    """CEN's rule: ``|γ| < θ`` within the candidates (the default path)."""

    def mask(self, gamma, candidates, threshold, training):
        return exchange_mask(gamma, threshold, candidates)

    def __repr__(self):
        return "ThresholdExchange()"


def _first_k(candidates: torch.Tensor, ratio: float, position: str) -> torch.Tensor:
    """(M, C) bool: the first / last ``round(ratio*K_m)`` candidates of each stream."""
    out = torch.zeros_like(candidates, dtype=torch.bool)
    for m, row in enumerate(candidates.cpu()):
        index = row.nonzero()[:, 0]
        k = num_replaced(len(index), ratio)
        chosen = index[:k] if position == 'first' else index[len(index) - k:]
        out[m, chosen.to(out.device)] = True
    return out


@EXCHANGE_POLICIES.register_module(name='fixed_ratio')
class FixedRatioExchange(ExchangePolicy):
    """The first (``position='first'``) or last ``round(ratio*K_m)`` candidate channels
    of every stream, in training and test."""

    def __init__(self, ratio: float = 0.3, position: str = 'first'):
        self.ratio = _check_ratio('fixed_ratio', ratio)
        if position not in ('first', 'last'):
            raise ValueError("exchange_policy 'fixed_ratio': position must be 'first' "
                             f"or 'last', got {position!r}")
        self.position = position

    def mask(self, gamma, candidates, threshold, training):
        return _first_k(candidates, self.ratio, self.position)

    def __repr__(self):
        return f'FixedRatioExchange(ratio={self.ratio}, position={self.position!r})'


@EXCHANGE_POLICIES.register_module(name='random')
class RandomExchange(ExchangePolicy):
    """``round(ratio*K_m)`` candidates of every stream drawn anew each training call;
    at test time ``test_mode`` (``'expected'``, ``'fixed'`` or ``'random'``, see the
    module docstring)."""

    TEST_MODES = ('expected', 'fixed', 'random')

    def __init__(self, ratio: float = 0.3, test_mode: str = 'expected'):
        self.ratio = _check_ratio('random', ratio)
        if test_mode not in self.TEST_MODES:
            raise ValueError(f"exchange_policy 'random': test_mode must be one of "
                             f'{self.TEST_MODES}, got {test_mode!r}')
        self.test_mode = test_mode

    def static_mask(self, training):
        return not training and self.test_mode == 'fixed'

    def mask(self, gamma, candidates, threshold, training):
        mode = 'random' if training else self.test_mode
        if mode == 'fixed':
            return _first_k(candidates, self.ratio, 'first')
        rows = candidates.cpu()
        if mode == 'expected':
            counts = rows.sum(dim=1)
            fractions = torch.tensor([
                num_replaced(int(k), self.ratio) / int(k) if k else 0.0
                for k in counts.tolist()
            ])
            return (rows.float() * fractions[:, None]).to(candidates.device)
        out = torch.zeros_like(rows, dtype=torch.bool)
        for m, row in enumerate(rows):
            index = row.nonzero()[:, 0]
            k = num_replaced(len(index), self.ratio)
            # default CPU generator: seeded by torch.manual_seed / randomness.seed
            out[m, index[torch.randperm(len(index))[:k]]] = True
        return out.to(candidates.device)

    def __repr__(self):
        return f'RandomExchange(ratio={self.ratio}, test_mode={self.test_mode!r})'


def build_exchange_policy(cfg: Optional[dict]) -> Optional[ExchangePolicy]:
    """``None`` or ``dict(type='threshold')`` -> None (the default rule and its fast
    path); another ``dict(type=NAME, **kwargs)`` -> that policy. Raises ``ValueError``
    naming the registered types for an unknown or malformed config."""
    if cfg is None:
        return None
    if isinstance(cfg, ExchangePolicy):
        return None if isinstance(cfg, ThresholdExchange) else cfg
    if not isinstance(cfg, dict) or 'type' not in cfg:
        raise ValueError('exchange_policy must be None or a dict with a "type" key, '
                         f'one of {sorted(EXCHANGE_POLICIES.module_dict)}, e.g. '
                         f"dict(type='fixed_ratio', ratio=0.3); got {cfg!r}")
    args = dict(cfg)
    name = args.pop('type')
    cls = EXCHANGE_POLICIES.module_dict.get(name)
    if cls is None:
        raise ValueError(f'exchange_policy type {name!r} is unknown; expected one of '
                         f'{sorted(EXCHANGE_POLICIES.module_dict)}')
    try:
        policy = cls(**args)
    except TypeError as err:
        raise ValueError(f'exchange_policy {cfg!r}: {err}') from None
    return None if isinstance(policy, ThresholdExchange) else policy
