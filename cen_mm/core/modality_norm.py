"""``ModalityNorm``: M private norm layers behind one shared conv, plus channel exchange.

Streams are stacked *stream-major* along the batch dimension: a tensor of shape
(M*N, C, *S) whose rows ``[m*N, (m+1)*N)`` belong to stream m. Shared convs therefore run
once for all streams; only the norm is private. The private norms are ordinary layers
built from ``norm_cfg`` (BN, SyncBN, IN, GN, ...) kept in ``self.norms`` (keys
``norms.{m}.weight`` ...), so SyncBN conversion, ``norm_eval`` and checkpoint loading work
unchanged.

Forward runs at the cost of the single-stream network on the M*N batch where the maths
allows it: viewed as (1, M*N*C, L), every (stream, sample, channel) row is one "channel"
of a single native ``batch_norm`` call with its stream's parameters, without copies:

* BN-family layers in eval mode (``norm_eval=True``, the papers' setting): running
  statistics and γ/β of each row's stream (an affine map per (stream, channel));
* InstanceNorm without running statistics: batch statistics per row (which is how
  ``F.instance_norm`` itself works), γ/β of each row's stream.

Anything else (BN/SyncBN collecting batch statistics per stream, GN) calls each stream's
layer on its slice and concatenates (one extra copy forward and backward).

Per-layer fixed cost (a ResNet-101 has 104 norms, so it shows at small inputs): the
per-row parameter tensors and the exchanged channel indices are kept between calls
while the tensors they come from are unchanged (same memory, same ``_version``, which
every in-place change such as an optimizer step or ``load_state_dict`` bumps), and only
where no gradient has to flow through them (buffers always; γ/β under ``no_grad`` or
when frozen). Not while ``torch.compile`` traces. Writes through ``.data`` do not bump
``_version``: mmengine's ``EMAHook`` swaps the EMA weights in and out that way around
validation. The kept values are therefore dropped whenever the train/eval mode changes
(mmengine's loops switch it right after the swap in and before the first training
iteration after the swap out) and, by ``CENRunner``'s default
``cen_mm.engine.hooks.KeptValuesHook``, at the start and end of every validation and
test epoch (after the last validation the mode stays eval); after other ``.data``
writes call :meth:`ModalityNorm.forget_kept_values` or :func:`forget_kept_values`.

On accelerators the exchanged channels come from a host pattern of ``|γ| < θ`` that
the backbone reads once per forward for all its norms
(:mod:`cen_mm.core.exchange_patterns`); without one (or while compiling) the exchange
is the sync-free masked blend of :func:`~cen_mm.core.exchange.channel_exchange`.
"""
from typing import Iterator, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.registry import MODELS
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.modules.instancenorm import _InstanceNorm

from .exchange import (EXCHANGE_MODES, _is_compiling, _others_means,
                       channel_exchange, exchange_by_indices, exchange_indices,
                       exchange_by_rows, exchange_mask, exchange_rows,
                       exchange_rows_in_place)
from .exchange_policies import build_exchange_policy
from .exchange_replacements import build_exchange_replacement
from .subparts import subpart_mask


def _build_norm(norm_cfg: dict, num_features: int) -> nn.Module:
    # mmcv's builder handles BN/SyncBN/GN/IN/LN naming and `requires_grad`.
    from mmcv.cnn import build_norm_layer
    return build_norm_layer(norm_cfg, num_features)[1]


@MODELS.register_module()
class ModalityNorm(nn.Module):
    """M private norm layers over a stream-major stacked batch, with optional exchange.

    Args:
        num_features: channels C.
        num_streams: streams M.
        norm_cfg: config of one private norm layer (mmcv style), e.g. ``dict(type='BN')``.
        exchange: replace channels with small |γ| by the other streams' mean
            (see :mod:`cen_mm.core.exchange`). Exchanging layers are also the ones the
            sparsity hook penalises and the statistics hook reports.
        threshold: θ.
        exchange_mode: ``'subpart'`` (papers, default) or ``'all'`` (official code).
        shared: ablation: a single norm layer used by every stream (no exchange).
        exchange_policy: which (stream, channel) pairs are replaced; None (default):
            ``|γ| < θ`` within the sub-parts. ``dict(type='fixed_ratio', ratio=0.3)``,
            ``dict(type='random', ratio=0.3, test_mode='expected')``: see
            :mod:`cen_mm.core.exchange_policies` (their candidates are the sub-parts,
            or all channels with ``exchange_mode='all'``).
        exchange_replacement: what a replaced pair gets; None (default): the other
            streams' mean. ``dict(type='zero')``, ``dict(type='weighted_others')``,
            ``dict(type='concat_conv')``, ``dict(type='sum', scope='all')`` ...: see
            :mod:`cen_mm.core.exchange_replacements` (TPAMI'23 Table 12).

    Shapes: input and output (M*N, C, *S).
    """

    def __init__(self,
                 num_features: int,
                 num_streams: int,
                 norm_cfg: Optional[dict] = None,
                 exchange: bool = False,
                 threshold: float = 2e-2,
                 exchange_mode: str = 'subpart',
                 shared: bool = False,
                 exchange_policy: Optional[dict] = None,
                 exchange_replacement: Optional[dict] = None):
        super().__init__()
        norm_cfg = dict(type='BN') if norm_cfg is None else dict(norm_cfg)
        if num_streams < 1:
            raise ValueError(f'num_streams must be >= 1, got {num_streams}')
        if exchange_mode not in EXCHANGE_MODES:
            raise ValueError(f'exchange_mode must be one of {EXCHANGE_MODES}, '
                             f'got {exchange_mode!r}')
        if exchange and (shared or num_streams < 2):
            raise ValueError('channel exchange needs >= 2 streams with private '
                             f'norms (num_streams={num_streams}, shared={shared})')
        self.num_features = num_features
        self.num_streams = num_streams
        self.shared = shared
        self.exchange = exchange
        self.threshold = float(threshold)
        self.exchange_mode = exchange_mode
        # None: the threshold rule (default fast paths); else an ExchangePolicy
        self.exchange_policy = build_exchange_policy(exchange_policy)
        if self.exchange_policy is not None and not exchange:
            raise ValueError(f'exchange_policy {exchange_policy!r} needs exchange=True')
        # None: the other streams' mean (default fast paths); else a module (it may
        # hold learned weights) of cen_mm.core.exchange_replacements
        if exchange_replacement is not None and not exchange:
            raise ValueError(f'exchange_replacement {exchange_replacement!r} needs '
                             'exchange=True')
        self.exchange_replacement = build_exchange_replacement(
            exchange_replacement, num_streams, num_features)
        if self.exchange_replacement is not None:
            # no single-stream counterpart: checkpoint inflation keeps its own init
            self.new_submodules = ('exchange_replacement', )
        num_layers = 1 if shared else num_streams
        self.norms = nn.ModuleList(
            _build_norm(norm_cfg, num_features) for _ in range(num_layers))
        if exchange and self.norms[0].weight is None:
            raise ValueError(
                f'exchange needs affine norm layers (a γ per channel); norm_cfg '
                f'{norm_cfg} builds {type(self.norms[0]).__name__} without weight — '
                'set affine=True')
        self.register_buffer(
            'owner_mask', subpart_mask(num_features, num_streams)
            if exchange else torch.zeros(0, dtype=torch.bool), persistent=False)
        # name -> (key, value) of _cached; not state (rebuilt on demand)
        self._cache: dict = {}

    # ---- interface used by the hooks -------------------------------------------------
    def gamma(self) -> torch.Tensor:
        """(M, C) scaling factors of the private norms (differentiable)."""
        return torch.stack([n.weight for n in self._layers()])

    def exchange_mask(self) -> torch.Tensor:
        """(M, C) bool: (stream, channel) pairs that the forward pass replaces now."""
        if not self.exchange:
            return torch.zeros(self.num_streams, self.num_features, dtype=torch.bool,
                               device=self.norms[0].weight.device
                               if self.norms[0].weight is not None else None)
        if self.exchange_policy is not None:
            return self._policy_mask_now()
        owner = self.owner_mask if self.exchange_mode == 'subpart' else None
        return exchange_mask(self.gamma(), self.threshold, owner)

    # ---- exchange policies (cen_mm.core.exchange_policies) ---------------------------
    def _policy_candidates(self) -> torch.Tensor:
        """(M, C) bool: channels each stream may replace (sub-part or all)."""
        if self.exchange_mode == 'subpart':
            return self.owner_mask
        return torch.ones_like(self.owner_mask)

    def _policy_mask_now(self) -> torch.Tensor:
        """The policy's (M, C) bool mask: recomputed for static policies; for random
        ones the hard mask of the last forward pass (none before the first)."""
        policy = self.exchange_policy
        if policy.static_mask(self.training):
            return policy.mask(self.gamma().detach(), self._policy_candidates(),
                               self.threshold, self.training)
        last = self.__dict__.get('_last_policy_mask')
        return (last.clone() if last is not None else
                torch.zeros_like(self.owner_mask))

    def _exchange_by_policy(self, y: torch.Tensor, shape: tuple) -> torch.Tensor:
        """The exchange with ``self.exchange_policy`` on the norm output ``y``
        (contiguous, ``shape`` = (M, N, C, *S)): a bool mask replaces as the threshold
        rule does (in place, same gradients); float weights p blend
        ``(1 - p)·y + p·mean_others`` (a new tensor)."""
        policy = self.exchange_policy
        mask = policy.mask(self.gamma().detach(), self._policy_candidates(),
                           self.threshold, self.training)
        if mask.dtype != torch.bool:
            streams = y.view(shape)
            weight = mask.to(y.dtype).view(shape[0], 1, shape[2],
                                           *([1] * (len(shape) - 3)))
            return torch.lerp(streams, _others_means(streams), weight).view(y.shape)
        if not policy.static_mask(self.training):
            self.__dict__['_last_policy_mask'] = mask  # what exchange_mask() reports
        return exchange_by_indices(y, exchange_indices(mask, y.device), shape)

    # ---- exchange replacements (cen_mm.core.exchange_replacements) -------------------
    def _exchange_by_replacement(self, y: torch.Tensor, shape: tuple) -> torch.Tensor:
        """The exchange with ``self.exchange_replacement`` on the norm output ``y``
        (``shape`` = (M, N, C, *S)): the pairs of the exchange rule (or of
        ``exchange_policy``) get the replacement's values (a new tensor); a policy's
        float weights p blend ``(1 - p)·y + p·replacement``."""
        streams = y.reshape(shape[0], shape[1], shape[2], -1)
        gamma = self.gamma().detach()
        policy = self.exchange_policy
        if policy is None:
            mask = self.exchange_mask()
        else:
            mask = policy.mask(gamma, self._policy_candidates(), self.threshold,
                               self.training)
            if mask.dtype == torch.bool and not policy.static_mask(self.training):
                self.__dict__['_last_policy_mask'] = mask  # what exchange_mask() reports
        if mask.dtype != torch.bool:
            replaced = self.exchange_replacement(streams, mask > 0, gamma)
            weight = mask.to(y.dtype).view(shape[0], 1, shape[2], 1)
            return torch.lerp(streams, replaced, weight).view(y.shape)
        return self.exchange_replacement(streams, mask, gamma).view(y.shape)

    # ---- kept values (plans, host patterns) -----------------------------------------
    def forget_kept_values(self) -> None:
        """Drop the kept per-row tensors, exchange plans and host pattern: the next
        forward builds them from the current parameters and buffers. Needed after
        changing them through ``.data`` (no ``_version`` bump) without a change of
        the train/eval mode, which drops them too (:meth:`train`)."""
        self.__dict__['_cache'] = {}
        self.set_host_below_pattern(None)

    def train(self, mode: bool = True) -> 'ModalityNorm':
        """``nn.Module.train``; a change of mode also drops the kept values
        (:meth:`forget_kept_values`), e.g. around mmengine's validation, where
        ``EMAHook`` swaps weights through ``.data``."""
        if mode != self.training:
            self.forget_kept_values()
        return super().train(mode)

    # ---- forward -------------------------------------------------------------------
    def _layers(self) -> list:
        """The norm layer of every stream (the same one M times if ``shared``)."""
        layers = list(self._modules['norms']._modules.values())
        return layers * self.num_streams if self.shared else layers

    def _uses_frozen_bn(self) -> bool:
        n = self.norms[0]
        return (isinstance(n, _BatchNorm) and not n.training
                and n.running_mean is not None)

    def _uses_per_sample_norm(self) -> bool:
        n = self.norms[0]
        return isinstance(n, _InstanceNorm) and not n.track_running_stats

    def _cached(self, name: str, sources: list, extra: tuple, build):
        """``build()``, reused while every tensor of ``sources`` is the same tensor at
        the same ``_version`` and memory (every in-place change, ``load_state_dict``
        and ``.to()`` moves one of them) and ``extra`` is equal. A lean check: it runs
        for every norm of every forward. Not used while compiling (dynamo traces
        ``build`` instead) and never across ``inference_mode`` on/off (inference
        tensors cannot enter autograd)."""
        if _is_compiling():
            return build()
        extra = (extra, torch.is_inference_mode_enabled())
        cache = self.__dict__.setdefault('_cache', {})  # also for pickled models
        hit = cache.get(name)
        if (hit is not None and hit[0] == extra and len(hit[1]) == len(sources)
                and all(a is b and a._version == v and a.data_ptr() == p
                        for a, b, v, p in zip(sources, hit[1], hit[2], hit[3]))):
            return hit[4]
        value = build()
        cache[name] = (extra, list(sources), [t._version for t in sources],
                       [t.data_ptr() for t in sources], value)
        return value

    def _kept_while_below_unchanged(self, name: str, extra: tuple, build,
                                    gamma: Optional[torch.Tensor] = None):
        """``build()`` (exchange indices), reused while the pattern of ``|γ| < θ``
        is unchanged and ``extra`` is equal. In training γ changes after every
        optimizer step, but the set of channels below θ seldom does: the check is
        two small ops and one comparison. ``gamma``: γ in any layout fixed for the
        given ``extra`` (e.g. per row); default :meth:`gamma`. With a fresh host
        pattern (:meth:`host_below_pattern`) the comparison runs on the host, so
        that no accelerator synchronises here."""
        below = self.host_below_pattern()
        if below is None:
            with torch.no_grad():
                below = (self.gamma() if gamma is None else gamma).abs().lt_(
                    self.threshold)
            layout = gamma is None
        else:
            layout = 'host'  # the (M, C) pattern, whatever layout gamma has
        extra = (extra, self.threshold, self.exchange_mode, layout,
                 torch.is_inference_mode_enabled())
        cache = self.__dict__.setdefault('_cache', {})
        hit = cache.get(name)
        if (hit is not None and hit[0] == extra and hit[1].shape == below.shape
                and torch.equal(hit[1], below)):
            return hit[2]
        value = build()
        cache[name] = (extra, below, value)
        return value

    # ---- host patterns of |γ| < θ (cen_mm.core.exchange_patterns) -----------------
    def set_host_below_pattern(self, below: Optional[torch.Tensor]) -> None:
        """Record the (M, C) CPU bool pattern of ``|γ| < θ`` read from the current
        γ (by :func:`~cen_mm.core.exchange_patterns.refresh_host_patterns`); it
        stays fresh while every stream's γ is the same tensor at the same
        ``_version`` (an optimizer step or ``load_state_dict`` makes it stale).
        ``None`` drops the recorded one."""
        if below is None:
            self.__dict__.pop('_host_below', None)
            return
        weights = [layer.weight for layer in self._layers()]
        self.__dict__['_host_below'] = (
            weights, [w._version for w in weights], [w.data_ptr() for w in weights],
            below)

    def host_below_pattern(self) -> Optional[torch.Tensor]:
        """The recorded (M, C) CPU pattern of ``|γ| < θ`` if still fresh, else None
        (also while compiling)."""
        entry = self.__dict__.get('_host_below')
        if entry is None or _is_compiling():
            return None
        weights, versions, pointers, below = entry
        layers = self._layers()
        if len(layers) != len(weights):
            return None
        for layer, w, v, p in zip(layers, weights, versions, pointers):
            current = layer._parameters['weight']
            if current is not w or current._version != v or current.data_ptr() != p:
                return None
        return below

    def _plan_mask(self) -> torch.Tensor:
        """:meth:`exchange_mask` for building index plans: from the fresh host
        pattern when there is one (on the CPU: no synchronisation), else the
        device mask (read on the host by the plan's builder)."""
        below = self.host_below_pattern()
        if below is None or self.exchange_policy is not None:
            return self.exchange_mask()
        if self.exchange_mode == 'subpart':
            # the ownership rebuilt on the host (the buffer may live on the device)
            return below & subpart_mask(self.num_features, self.num_streams)
        return below.clone()

    def _param_rows(self, first: str, second: str, layers: list, batch: int):
        """:meth:`_rows` of two attributes, cached where no gradient flows into them
        (buffers; parameters that are frozen or under ``no_grad``)."""
        tensors = [getattr(layer, name) for name in (first, second)
                   for layer in layers]
        if tensors[0] is None or (torch.is_grad_enabled()
                                  and any(t.requires_grad for t in tensors)):
            return self._rows(first, second, layers, batch)
        return self._cached(first, tensors, (batch, ),
                            lambda: self._rows(first, second, layers, batch))

    @staticmethod
    def _rows(first: str, second: str, layers: list,
              batch: int) -> Tuple[Optional[torch.Tensor], Optional[torch.Tensor]]:
        """Per-row values of two (C,) tensors of every stream's layer (e.g. weight and
        bias): two (M*N*C,) tensors, stream m's values repeated for each of its N
        samples, i.e. one value per row of the (1, M*N*C, L) view; (None, None) if the
        layers have none. ``first``/``second`` name the attributes. One stack and one
        copy for both: a ResNet-101 has 104 norms, so small ops per call add up."""
        if getattr(layers[0], first) is None:
            return None, None
        stacked = torch.stack([getattr(layer, name) for name in (first, second)
                               for layer in layers])  # (2*M, C), name-major
        M, C = len(layers), stacked.shape[1]
        rows = stacked.view(2, M, 1, C).expand(2, M, batch, C).reshape(2, -1)
        return rows[0], rows[1]

    def _normalize(self, x: torch.Tensor) -> torch.Tensor:
        """(M*N, C, *S) -> normalised by each stream's own layer: (M*N, C, *S), or the
        (1, M*N*C, L) rows of the single-call paths (same memory order)."""
        M = self.num_streams
        layers = self._layers()
        first = layers[0]
        frozen_bn = self._uses_frozen_bn()
        if frozen_bn or self._uses_per_sample_norm():
            if self.shared:
                return first(x)  # one layer, no batch statistics: the stack is its batch
            # Frozen BN is an affine map per (stream, channel); IN normalises every
            # (sample, channel) row. Either way each row of the (1, M*N*C, L) view is
            # one BN "channel" with its stream's parameters, so one native batch_norm
            # call (the fused kernel the single-stream network uses, forward and
            # backward) serves all streams, without copies.
            batch = x.shape[0] // M
            x = x.contiguous()
            rows = x.view(1, x.shape[0] * x.shape[1], -1)
            if frozen_bn:
                # parameters and buffers apart: batch_norm's statistics take no grad
                weight, bias = self._param_rows('weight', 'bias', layers, batch)
                mean, var = self._param_rows('running_mean', 'running_var', layers,
                                             batch)
                return F.batch_norm(rows, mean, var, weight, bias, False, 0.0,
                                    first.eps)
            # what F.instance_norm does, with per-stream affine parameters
            weight, bias = self._param_rows('weight', 'bias', layers, batch)
            return F.batch_norm(rows, None, None, weight, bias, True, 0.0, first.eps)
        # Batch statistics per stream (BN/SyncBN training) or GN: each stream's layer
        # on its slice. (GN could share the call, but its affine is per stream.)
        chunks = x.chunk(M, dim=0)
        return torch.cat([norm(c) for norm, c in zip(layers, chunks)])

    def _inference_plan(self, x: torch.Tensor) -> Optional[tuple]:
        """For the single-call paths without autograd (inference): ``(frozen_bn,
        weight, bias, mean, var, eps, channels)`` with the per-row tensors of
        :meth:`_rows` and the exchanged channels of
        :func:`~cen_mm.core.exchange.exchange_indices` as rows of the (M*N*C, L)
        view (:func:`~cen_mm.core.exchange.exchange_rows`; also on accelerators:
        read once per change of γ, not per call), or None if none is exchanged;
        kept while every parameter and buffer they come from is unchanged; None
        where the general path applies."""
        # Runs for every norm of every forward: attributes are read from the layers'
        # dicts, as nn.Module.__getattr__ costs about 2 us a call.
        layers = list(self._modules['norms']._modules.values())
        first = layers[0]
        if self.shared or first._parameters.get('weight') is None:
            return None
        if (self.exchange_policy is not None
                and not self.exchange_policy.static_mask(self.training)):
            return None  # drawn per call, or a blend: the general path
        if self.exchange_replacement is not None:
            return None  # the replacement runs on the general path
        if isinstance(first, _BatchNorm):
            frozen_bn = True
            if first.training or first._buffers.get('running_mean') is None:
                return None
            sources = [layer._parameters[name] for name in ('weight', 'bias')
                       for layer in layers]
            sources += [layer._buffers[name] for name in ('running_mean', 'running_var')
                        for layer in layers]
        elif isinstance(first, _InstanceNorm) and not first.track_running_stats:
            frozen_bn = False
            sources = [layer._parameters[name] for name in ('weight', 'bias')
                       for layer in layers]
        else:
            return None
        extra = (x.shape[0], x.device, frozen_bn, first.eps, self.threshold,
                 self.exchange_mode)

        def build():
            batch = x.shape[0] // self.num_streams
            weight, bias = self._rows('weight', 'bias', layers, batch)
            mean, var = (self._rows('running_mean', 'running_var', layers, batch)
                         if frozen_bn else (None, None))
            channels = (exchange_rows(exchange_indices(self._plan_mask(), x.device),
                                      batch, x.shape[1])
                        if self.exchange else None)
            return frozen_bn, weight, bias, mean, var, first.eps, channels

        return self._cached('inference', sources, extra, build)

    def _exchange_rows_plan(self, batch: int, channels: int, device: torch.device,
                            gamma_rows: Optional[torch.Tensor] = None
                            ) -> Optional[tuple]:
        """The rows exchange (:func:`~cen_mm.core.exchange.exchange_rows`) of the
        current mask, kept while the pattern of ``|γ| < θ`` (``gamma_rows``: γ per
        row, default :meth:`gamma`) is unchanged, for the same N, C and device."""
        return self._kept_while_below_unchanged(
            'exchange_rows', (batch, channels, device),
            lambda: exchange_rows(exchange_indices(self._plan_mask(), device),
                                  batch, channels), gamma_rows)

    def _frozen_training_forward(self, x: torch.Tensor) -> Optional[torch.Tensor]:
        """Training with frozen BN (``norm_eval``, the papers' setting) and the
        threshold rule, on the CPU in eager mode; None where it does not apply.

        The same arithmetic as the general path (one ``batch_norm`` over the
        (1, M*N*C, L) rows with per-row γ/β, then the rows exchange), with as few
        ops and autograd nodes as possible, because in a network every small op
        costs several times what a micro-loop shows (each follows a kernel that
        evicted the caches): the γ/β rows by one ``cat`` each, the exchange plan kept while the pattern of
        ``|γ| < θ`` is unchanged, and for M = 2 the exchange as one
        ``index_select`` and one in-place ``index_copy_`` along the rows (ATen's
        autograd; a Python ``autograd.Function`` costs more here).

        Values and input gradients are bit-identical to the general path; so are
        the γ/β gradients for N <= 4. For N >= 5 these differ in the last bits:
        autograd adds the N samples' row gradients of a ``cat`` one after the
        other, where the general path's ``expand`` sums them with the reduction
        kernel's order (``tests/test_core/test_frozen_training_path.py``)."""
        layers = list(self._modules['norms']._modules.values())
        first = layers[0]
        if (self.shared or self.exchange_policy is not None
                or self.exchange_replacement is not None
                or not isinstance(first, _BatchNorm) or first.training
                or first._buffers.get('running_mean') is None
                or first._parameters.get('weight') is None
                or first._parameters.get('bias') is None):
            return None
        M = self.num_streams
        batch = x.shape[0] // M
        mean, var = self._param_rows('running_mean', 'running_var', layers, batch)
        # γ/β per row (stream m's values for each of its N samples): one cat each
        weight = torch.cat([layer._parameters['weight'] for layer in layers
                            for _ in range(batch)])
        bias = torch.cat([layer._parameters['bias'] for layer in layers
                          for _ in range(batch)])
        if not x.is_contiguous():
            x = x.contiguous()  # e.g. channels_last: the rows view needs NCHW order
        y = torch.batch_norm(x.view(1, x.shape[0] * x.shape[1], -1), weight, bias,
                             mean, var, False, 0.0, first.eps,
                             torch.backends.cudnn.enabled)
        plan = (self._exchange_rows_plan(batch, x.shape[1], x.device, weight)
                if self.exchange else None)
        if plan is not None:
            if M == 2:  # each replaced row takes the other stream's row
                y = y.index_copy_(1, plan[0], y.index_select(1, plan[1]))
            else:  # the mean of M-1 rows: the rows Function
                y = exchange_by_rows(y, plan, M)
        return torch.ops.aten._unsafe_view(y, x.shape)

    def _inference_forward(self, x: torch.Tensor,
                           plan: tuple) -> torch.Tensor:
        """The single-call path (and the exchange) with a plan, no autograd."""
        frozen_bn, weight, bias, mean, var, eps, channels = plan
        rows = x.contiguous().view(1, x.shape[0] * x.shape[1], -1)
        y = torch.batch_norm(rows, weight, bias, mean, var, not frozen_bn, 0.0, eps,
                             torch.backends.cudnn.enabled)
        if channels is not None:
            # two indexing ops on the rows (plus M-2 adds), not 2*M per-stream ones
            exchange_rows_in_place(y.view(y.shape[1], -1), channels[:2],
                                   self.num_streams)
        return y.view(x.shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[0] % self.num_streams:
            raise ValueError(
                f'ModalityNorm expects the {self.num_streams} streams stacked along '
                f'the batch dimension, but got batch {x.shape[0]}')
        if x.shape[1] != self.num_features:
            raise ValueError(f'ModalityNorm built for {self.num_features} channels '
                             f'got input with {x.shape[1]}')
        if not _is_compiling():
            if not torch.is_grad_enabled():
                plan = self._inference_plan(x)
                if plan is not None:
                    return self._inference_forward(x, plan)
            elif x.device.type == 'cpu' or self.host_below_pattern() is not None:
                # (on accelerators only with a fresh host pattern: no sync here)
                y = self._frozen_training_forward(x)
                if y is not None:
                    return y
        y = self._normalize(x)
        if self.exchange and self.exchange_replacement is not None:
            shape = (self.num_streams, x.shape[0] // self.num_streams, *x.shape[1:])
            y = self._exchange_by_replacement(y, shape)
        elif self.exchange and self.exchange_policy is not None:
            shape = (self.num_streams, x.shape[0] // self.num_streams, *x.shape[1:])
            y = self._exchange_by_policy(y, shape)
        elif self.exchange:
            # in place on the norm's own output (not a view of it), see channel_exchange
            shape = (self.num_streams, x.shape[0] // self.num_streams, *x.shape[1:])
            if (y.device.type == 'cpu' or self.host_below_pattern() is not None
                    ) and not _is_compiling():
                # the indexed path on the (M*N*C, L) rows; its row indices depend
                # only on the (M, C) mask and N (on accelerators: with a fresh host
                # pattern, else the sync-free blend below)
                rows = self._exchange_rows_plan(shape[1], shape[2], y.device)
                y = exchange_by_rows(y, rows, self.num_streams)
            else:
                y = channel_exchange(y, self.exchange_mask(), streams_shape=shape)
        if y.shape == x.shape:
            return y
        # A plain view would make autograd treat every in-place op of the caller on
        # the output (ReLU(inplace=True), `out += identity`) as an in-place change of
        # a view, which costs three full copies of the gradient in backward. The rows
        # are a temporary nobody else holds and batch_norm does not save its output
        # for backward, so the output may be a new tensor on the same memory.
        return torch.ops.aten._unsafe_view(y, x.shape)

    def extra_repr(self) -> str:
        s = f'{self.num_features}, num_streams={self.num_streams}'
        if self.shared:
            s += ', shared=True'
        if self.exchange:
            s += (f', exchange=True, threshold={self.threshold}, '
                  f'exchange_mode={self.exchange_mode!r}')
            if self.exchange_policy is not None:
                s += f', exchange_policy={self.exchange_policy!r}'
        return s


def forget_kept_values(model: nn.Module) -> None:
    """:meth:`ModalityNorm.forget_kept_values` for every ``ModalityNorm`` in
    ``model``, e.g. after writing its parameters through ``.data``."""
    for module in model.modules():
        if isinstance(module, ModalityNorm):
            module.forget_kept_values()


def iter_exchanging_norms(model: nn.Module) -> Iterator[Tuple[str, ModalityNorm]]:
    """Yield ``(name, module)`` for every exchanging :class:`ModalityNorm` in ``model``.

    This is how hooks find the layers to penalise / report: no parameter-name lists.
    """
    for name, module in model.named_modules():
        if isinstance(module, ModalityNorm) and module.exchange:
            yield name, module
