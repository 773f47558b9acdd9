"""``ConditionalModalityNorm``: conditional BN across modalities (CBN baseline).

The CBN baseline of NeurIPS'20 §4.1 item 2 / Table 3 ("our implemented CBN by
modulating the BN of depth conditional on RGB"): instead of exchanging channels, the
target stream's (depth's) norm gets a per-sample offset on its scaling and shift,
predicted from the source stream (RGB), as in conditional batch normalisation (de Vries
et al., "Modulating early visual processing by language", NeurIPS 2017):

    e      = GAP(y_src)                        (N, C)  source stream's norm output,
                                                        global-average-pooled
    Δγ, Δβ = W2 · ReLU(W1 · e + b1) + b2       (N, C) each   (MLP C -> H -> 2C)
    y_tgt  = x̂_tgt · (γ_tgt + Δγ) + (β_tgt + Δβ)          x̂: the target's normalised
                                                           input (its own statistics)

Every other stream is normalised by its own private layer, as in
:class:`~cen_mm.core.ModalityNorm` (no exchange). The MLP's last layer starts at zero,
so an untrained CBN is exactly the private-BN network (and a single-stream checkpoint
inflates into the norm layers unchanged; the MLP keeps its own initialisation).
Gradients of the target's loss flow into the source stream through Δγ, Δβ.

Choices the paper leaves open (documented in docs/paper_grid.md): the conditioning
signal (global-pooled post-norm source features of the same layer), the MLP width
``H = max(C // reduction, 8)`` with ``reduction=4``, one direction only (RGB -> depth).
"""
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.registry import MODELS
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.modules.instancenorm import _InstanceNorm

from .modality_norm import ModalityNorm


def normalize_without_affine(layer: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """``layer``'s normalisation of ``x`` without its γ/β: what a BN/IN layer computes
    before its affine step, with the same statistics (batch statistics while training,
    running statistics in eval) and the same running-statistics update."""
    if isinstance(layer, _BatchNorm):
        momentum = 0.0 if layer.momentum is None else layer.momentum
        if layer.training and layer.track_running_stats:
            layer.num_batches_tracked.add_(1)
            if layer.momentum is None:  # cumulative moving average
                momentum = 1.0 / float(layer.num_batches_tracked)
        use_batch_stats = layer.training or layer.running_mean is None
        track = not layer.training or layer.track_running_stats
        return F.batch_norm(x, layer.running_mean if track else None,
                            layer.running_var if track else None, None, None,
                            use_batch_stats, momentum, layer.eps)
    if isinstance(layer, _InstanceNorm):
        use_input_stats = layer.training or not layer.track_running_stats
        return F.instance_norm(x, layer.running_mean, layer.running_var, None, None,
                               use_input_stats, layer.momentum or 0.0, layer.eps)
    raise TypeError(f'ConditionalModalityNorm supports BN/SyncBN/IN private norms, got '
                    f'{type(layer).__name__}: use norm_cfg=dict(type="BN") or "IN"')


@MODELS.register_module()
class ConditionalModalityNorm(ModalityNorm):
    """M private norms; the target stream's γ/β modulated per sample by the source.

    Args:
        num_features: channels C.
        num_streams: streams M (>= 2).
        norm_cfg: one private norm layer (BN, SyncBN or IN, affine).
        source_stream: the conditioning stream (0 = RGB).
        target_stream: the modulated stream (1 = depth).
        reduction: MLP hidden width ``max(C // reduction, 8)``.

    Shapes: input and output (M*N, C, *S), streams stacked stream-major. Extra state:
    ``condition`` (the MLP: ``condition.0`` Linear(C, H), ``condition.2``
    Linear(H, 2C), output ``[Δγ, Δβ]``).
    """

    #: sub-modules with no counterpart in a single-stream checkpoint: checkpoint
    #: inflation leaves them at their own initialisation
    new_submodules = ('condition', )

    def __init__(self,
                 num_features: int,
                 num_streams: int,
                 norm_cfg: Optional[dict] = None,
                 source_stream: int = 0,
                 target_stream: int = 1,
                 reduction: int = 4):
        super().__init__(num_features, num_streams, norm_cfg=norm_cfg)
        if num_streams < 2:
            raise ValueError(f'ConditionalModalityNorm needs >= 2 streams, got '
                             f'{num_streams}')
        for name, value in (('source_stream', source_stream),
                            ('target_stream', target_stream)):
            if not 0 <= value < num_streams:
                raise ValueError(f'ConditionalModalityNorm: {name}={value} is not a '
                                 f'stream index in [0, {num_streams})')
        if source_stream == target_stream:
            raise ValueError('ConditionalModalityNorm: source_stream and '
                             f'target_stream must differ, both are {source_stream}')
        if self.norms[0].weight is None:
            raise ValueError('ConditionalModalityNorm modulates γ/β: the private norm '
                             f'{norm_cfg} must be affine')
        if not isinstance(self.norms[0], (_BatchNorm, _InstanceNorm)):
            raise TypeError('ConditionalModalityNorm supports BN/SyncBN/IN private '
                            f'norms, norm_cfg {norm_cfg} builds '
                            f'{type(self.norms[0]).__name__}')
        self.source_stream = source_stream
        self.target_stream = target_stream
        hidden = max(num_features // reduction, 8)
        self.condition = nn.Sequential(
            nn.Linear(num_features, hidden), nn.ReLU(inplace=True),
            nn.Linear(hidden, 2 * num_features))
        nn.init.zeros_(self.condition[2].weight)
        nn.init.zeros_(self.condition[2].bias)

    def modulation(self, source: torch.Tensor):
        """(N, C, *S) source-stream features -> (Δγ, Δβ), each (N, C)."""
        pooled = source.flatten(2).mean(dim=2)
        return self.condition(pooled).chunk(2, dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        M = self.num_streams
        if x.shape[0] % M or x.shape[1] != self.num_features:
            raise ValueError(
                f'ConditionalModalityNorm expects (M*N, {self.num_features}, ...) with '
                f'M={M} streams stacked along the batch, got {tuple(x.shape)}')
        chunks = x.chunk(M, dim=0)
        outs = [None if m == self.target_stream else layer(chunk)
                for m, (layer, chunk) in enumerate(zip(self.norms, chunks))]
        delta_gamma, delta_beta = self.modulation(outs[self.source_stream])
        layer = self.norms[self.target_stream]
        x_hat = normalize_without_affine(layer, chunks[self.target_stream])
        shape = (*delta_gamma.shape, *([1] * (x.dim() - 2)))
        outs[self.target_stream] = (
            x_hat * (layer.weight + delta_gamma).view(shape)
            + (layer.bias + delta_beta).view(shape))
        return torch.cat(outs)

    def extra_repr(self) -> str:
        return (f'{self.num_features}, num_streams={self.num_streams}, '
                f'source_stream={self.source_stream}, '
                f'target_stream={self.target_stream}')
