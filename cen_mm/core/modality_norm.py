"""``ModalityNorm``: M private norm layers behind one shared conv, plus channel exchange.

Streams are stacked *stream-major* along the batch dimension: a tensor of shape
(M*N, C, *S) whose rows ``[m*N, (m+1)*N)`` belong to stream m. Shared convs therefore run
once for all streams; only the norm is private. The private norms are ordinary layers
built from ``norm_cfg`` (BN, SyncBN, IN, GN, ...) kept in ``self.norms`` (keys
``norms.{m}.weight`` ...), so SyncBN conversion, ``norm_eval`` and checkpoint loading work
unchanged.

Forward avoids per-stream copies where the maths allows it:

* BN-family layers in eval mode (``norm_eval=True``, the papers' setting) are an affine
  map per (stream, channel): one ``addcmul`` over the (M, N, C, -1) view.
* Per-sample norms (IN, GN, LN-style) normalise the whole stacked batch at once without
  affine, then apply each stream's γ/β in one ``addcmul``.
* Anything else (BN/SyncBN collecting batch statistics) calls each stream's layer on its
  slice and concatenates.
"""
from typing import Iterator, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.registry import MODELS
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.modules.instancenorm import _InstanceNorm

from .exchange import EXCHANGE_MODES, channel_exchange, exchange_mask
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

    Shapes: input and output (M*N, C, *S).
    """

    def __init__(self,
                 num_features: int,
                 num_streams: int,
                 norm_cfg: Optional[dict] = None,
                 exchange: bool = False,
                 threshold: float = 2e-2,
                 exchange_mode: str = 'subpart',
                 shared: bool = False):
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

    # ---- interface used by the hooks -------------------------------------------------
    def gamma(self) -> torch.Tensor:
        """(M, C) scaling factors of the private norms (differentiable)."""
        layers = [self.norms[0]] * self.num_streams if self.shared else self.norms
        return torch.stack([n.weight for n in layers])

    def exchange_mask(self) -> torch.Tensor:
        """(M, C) bool: (stream, channel) pairs that the forward pass replaces now."""
        if not self.exchange:
            return torch.zeros(self.num_streams, self.num_features, dtype=torch.bool,
                               device=self.norms[0].weight.device
                               if self.norms[0].weight is not None else None)
        owner = self.owner_mask if self.exchange_mode == 'subpart' else None
        return exchange_mask(self.gamma(), self.threshold, owner)

    # ---- forward -------------------------------------------------------------------
    def _affine(self) -> Tuple[torch.Tensor, torch.Tensor]:
        """Per-stream affine (M, C) weight and bias (ones/zeros if not affine)."""
        layers = [self.norms[0]] * self.num_streams if self.shared else self.norms
        if layers[0].weight is None:
            ones = torch.ones(self.num_streams, self.num_features)
            return ones, torch.zeros_like(ones)
        return (torch.stack([n.weight for n in layers]),
                torch.stack([n.bias for n in layers]))

    def _frozen_bn_affine(self) -> Tuple[torch.Tensor, torch.Tensor]:
        """Eval-mode BN as an affine map: scale = γ/sqrt(var+eps), shift = β - mean*scale."""
        layers = [self.norms[0]] * self.num_streams if self.shared else self.norms
        mean = torch.stack([n.running_mean for n in layers])
        var = torch.stack([n.running_var for n in layers])
        weight, bias = self._affine()
        eps = layers[0].eps
        scale = weight * torch.rsqrt(var + eps)
        return scale, bias - mean * scale

    def _uses_frozen_bn(self) -> bool:
        n = self.norms[0]
        return (isinstance(n, _BatchNorm) and not n.training
                and n.running_mean is not None)

    def _uses_per_sample_norm(self) -> bool:
        n = self.norms[0]
        return ((isinstance(n, _InstanceNorm) and not n.track_running_stats)
                or isinstance(n, nn.GroupNorm))

    def _normalize(self, x: torch.Tensor) -> torch.Tensor:
        """(M*N, C, *S) -> (M, N, C, L) normalised per stream (L = prod(S))."""
        M, C = self.num_streams, self.num_features
        if self._uses_frozen_bn() or self._uses_per_sample_norm():
            if self._uses_frozen_bn():
                scale, shift = self._frozen_bn_affine()
                base = x
            else:
                n = self.norms[0]
                if isinstance(n, nn.GroupNorm):
                    base = F.group_norm(x, n.num_groups, eps=n.eps)
                else:
                    base = F.instance_norm(x, eps=n.eps)
                scale, shift = self._affine()
                scale, shift = scale.to(x), shift.to(x)
            view = base.reshape(M, -1, C, base[0, 0].numel())
            return torch.addcmul(shift[:, None, :, None].to(view.dtype), view,
                                 scale[:, None, :, None].to(view.dtype))
        chunks = x.chunk(M, dim=0)
        layers = [self.norms[0]] * M if self.shared else self.norms
        out = torch.cat([norm(c) for norm, c in zip(layers, chunks)])
        return out.reshape(M, -1, C, out[0, 0].numel())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[0] % self.num_streams:
            raise ValueError(
                f'ModalityNorm expects the {self.num_streams} streams stacked along '
                f'the batch dimension, but got batch {x.shape[0]}')
        if x.shape[1] != self.num_features:
            raise ValueError(f'ModalityNorm built for {self.num_features} channels '
                             f'got input with {x.shape[1]}')
        y = self._normalize(x)
        if self.exchange:
            y = channel_exchange(y, self.exchange_mask())
        return y.view(x.shape)

    def extra_repr(self) -> str:
        s = f'{self.num_features}, num_streams={self.num_streams}'
        if self.shared:
            s += ', shared=True'
        if self.exchange:
            s += (f', exchange=True, threshold={self.threshold}, '
                  f'exchange_mode={self.exchange_mode!r}')
        return s


def iter_exchanging_norms(model: nn.Module) -> Iterator[Tuple[str, ModalityNorm]]:
    """Yield ``(name, module)`` for every exchanging :class:`ModalityNorm` in ``model``.

    This is how hooks find the layers to penalise / report: no parameter-name lists.
    """
    for name, module in model.named_modules():
        if isinstance(module, ModalityNorm) and module.exchange:
            yield name, module
