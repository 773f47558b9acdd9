"""``CENUnetGenerator``: the Pix2Pix U-Net with CEN streams (TPAMI'23 §3.2–3.5, §4).

The U-Net-256 of Pix2Pix (8 stride-2 convs down, 8 transposed convs up, skip connections,
instance norm; ``num_down`` is configurable) runs S = T·M streams at once, stacked
task-major along the batch dimension (see :mod:`.stream_grid_norm`): T tasks (output
domains or cycle flows) × M input streams per task. All convs of the encoder are shared by
every stream; the decoder convs are shared by all tasks or private per task. Per level::

    encoder level i   (i = 0)          conv                           (no norm)
                      (0 < i < n-1)    LeakyReLU(0.2) -> conv -> norm  [CEN-enc exchange]
                      (i = n-1)        LeakyReLU(0.2) -> conv          (1x1 at 256 px)
    decoder level k   (k = n-1 .. 1)   ReLU -> deconv -> norm [CEN-dec] (-> dropout)
                                       -> concat skip of encoder level k-1
                      (k = 0)          ReLU -> deconv -> tanh

(the innermost and outermost encoder convs have no norm, as in Pix2Pix and the official
CEN code: instance norm of a 1x1 map is zero). Dropout 0.5 acts on the first
``num_dropout`` decoder levels after the bottleneck (Pix2Pix paper, official CEN code).

Variants (``generator`` settings; ``CENPix2Pix`` fills ``num_inputs``/``num_tasks``):

* multimodal fusion M -> 1: ``num_inputs=M`` (encoder exchange on by default);
* multitask 1 -> T, CEN-dec: ``num_tasks=T, separate_decoders=True,
  decoder_exchange=True`` (encoder convs shared, encoder norms private per task);
* multimodal multitask M -> T: both exchanges (CEN-enc & dec), or either;
* cycle fusion: one task per flow, ``separate_decoders`` for "dec×F".

Outputs: every stream predicts; the ensemble of task t is
``Σ_m softmax(α_t)_m · detach(out_{t,m})`` (α: (T, M) learnable, one softmax per task;
only for M >= 2, for M = 1 the ensemble is the single stream's output).
"""
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmengine.registry import MODELS

from cen_mm.core import StreamEnsemble, load_legacy_alpha, stream_grid
from .stream_grid_norm import StreamGridNorm
from .weight_init import pix2pix_init_cfg


CONV_SHARING = ('shared', 'task', 'stream')


def unet_channels(num_down: int, base_channels: int) -> List[int]:
    """Output channels of the encoder levels: base·min(2^i, 8) (64..512 for U-Net-256)."""
    return [base_channels * min(2**i, 8) for i in range(num_down)]


@MODELS.register_module()
class CENUnetGenerator(BaseModule):
    """Pix2Pix U-Net over a T × M grid of CEN streams.

    Args:
        in_channels: channels of every input stream (inputs with fewer channels are
            broadcast to this by the data pipeline, e.g. depth -> 3).
        out_channels: channels of every output.
        num_inputs: M, input streams per task.
        num_tasks: T, tasks (decoder targets / cycle flows).
        num_down: stride-2 levels (8 for 256 px; input sides must be multiples of
            2**num_down). At least 3.
        base_channels: channels of the first level (64).
        norm_cfg: one norm layer; ``dict(type='IN', affine=True)`` (γ is what CEN
            thresholds and penalises).
        encoder_norms: ``'stream'`` (papers: private per stream), ``'task'`` or
            ``'shared'`` (ablations).
        encoder_exchange: channel exchange among the M inputs of each task after every
            encoder norm (CEN-enc). Default: on iff ``num_inputs >= 2``.
        separate_decoders: one set of decoder convs per task ("dec×T") instead of one
            shared decoder.
        decoder_norms: ``'shared'``, ``'task'`` or ``'stream'`` (official code: private
            per stream). Default: ``'task'`` with separate decoders or decoder exchange,
            else ``'shared'`` (papers: decoder INs shared).
        decoder_exchange: channel exchange among the T tasks after every decoder norm
            (CEN-dec); needs T >= 2.
        threshold: θ (papers: 1e-2 for translation).
        exchange_mode: ``'subpart'`` (papers) or ``'all'`` (official code).
        use_dropout: dropout 0.5 in the first ``num_dropout`` decoder levels.
        num_dropout: see ``use_dropout`` (3 in Pix2Pix).
        init_std: σ of the N(0, σ) conv weight initialisation (the default
            ``init_cfg``, :func:`pix2pix_init_cfg`).
        init_cfg: mmengine init config; ``None``: :func:`pix2pix_init_cfg`
            (``init_std``), then α = ``ensemble.init_value`` (its ``init_weights``).
            ``dict(type='Pretrained', ...)`` loads a checkpoint.
        encoder_convs: who shares the encoder convs: ``'shared'`` (papers: all
            streams), ``'task'`` (one encoder per task: the Indiv baselines "enc×T" of
            TPAMI'23 Tables 7-9) or ``'stream'`` (one per (task, input): the
            "unshared convs" of TPAMI'23 Tables 10-11, individual networks).
        decoder_convs: the same for the decoder convs. Default: ``'task'`` with
            ``separate_decoders`` ("dec×T"), else ``'shared'``.
        exchange_policy: which channels every exchanging norm replaces; None: CEN's
            ``|γ| < θ``. See :mod:`cen_mm.core.exchange_policies`.
        exchange_replacement: what an exchanged channel gets in every exchanging
            norm; None: the other streams' mean (CEN). See
            :mod:`cen_mm.core.exchange_replacements` (TPAMI'23 Table 12).

    Conv layout: shared convs are ``down_convs[level]``; private ones
    ``down_convs[set][level]`` with set = t (``'task'``) or t·M + m (``'stream'``);
    decoders are always ``up_convs[set][level]``. Norms must be at least as private as
    the convs they follow (a norm shared by two different networks is rejected).
    """

    def __init__(self,
                 in_channels: int = 3,
                 out_channels: int = 3,
                 num_inputs: int = 2,
                 num_tasks: int = 1,
                 num_down: int = 8,
                 base_channels: int = 64,
                 norm_cfg: Optional[dict] = None,
                 encoder_norms: str = 'stream',
                 encoder_exchange: Optional[bool] = None,
                 separate_decoders: bool = False,
                 decoder_norms: Optional[str] = None,
                 decoder_exchange: bool = False,
                 threshold: float = 1e-2,
                 exchange_mode: str = 'subpart',
                 use_dropout: bool = True,
                 num_dropout: int = 3,
                 init_std: float = 0.02,
                 init_cfg: Optional[dict] = None,
                 encoder_convs: str = 'shared',
                 decoder_convs: Optional[str] = None,
                 exchange_replacement: Optional[dict] = None,
                 exchange_policy: Optional[dict] = None):
        if init_cfg is None:
            init_cfg = pix2pix_init_cfg(init_std)
        super().__init__(init_cfg=init_cfg)
        if num_down < 3:
            raise ValueError(f'num_down must be >= 3 (got {num_down}): the encoder '
                             'needs at least one normalised level')
        if num_inputs < 1 or num_tasks < 1:
            raise ValueError(f'num_inputs and num_tasks must be >= 1, got '
                             f'{num_inputs} and {num_tasks}')
        norm_cfg = dict(type='IN', affine=True) if norm_cfg is None else dict(norm_cfg)
        if encoder_exchange is None:
            encoder_exchange = num_inputs >= 2
        if decoder_convs is None:
            decoder_convs = 'task' if separate_decoders else 'shared'
        for key, value in (('encoder_convs', encoder_convs),
                           ('decoder_convs', decoder_convs)):
            if value not in CONV_SHARING:
                raise ValueError(f'CENUnetGenerator: {key} must be one of '
                                 f'{CONV_SHARING}, got {value!r}')
        if separate_decoders and decoder_convs == 'shared':
            raise ValueError("separate_decoders=True gives every task its own decoder "
                             "convs; decoder_convs='shared' contradicts it (drop one)")
        if decoder_norms is None:
            decoder_norms = ('stream' if decoder_convs == 'stream' else
                             'task' if (separate_decoders or decoder_exchange
                                        or decoder_convs == 'task') else 'shared')
        for part, convs, norms in (('encoder', encoder_convs, encoder_norms),
                                   ('decoder', decoder_convs, decoder_norms)):
            sets = dict(shared=1, task=num_tasks, stream=num_tasks * num_inputs)
            if norms in sets and sets[convs] > sets[norms]:
                raise ValueError(
                    f'CENUnetGenerator: {part}_convs={convs!r} builds {sets[convs]} '
                    f'networks but {part}_norms={norms!r} would share a norm between '
                    f'them; use {part}_norms={convs!r} (or \'stream\')')
        if separate_decoders and decoder_norms == 'shared' and num_tasks > 1:
            raise ValueError("separate_decoders=True gives every task its own decoder; "
                             "decoder_norms='shared' would share their norms: use "
                             "'task' or 'stream'")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.num_inputs = num_inputs
        self.num_tasks = num_tasks
        self.num_down = num_down
        self.use_dropout = use_dropout
        self.num_dropout = num_dropout
        self.init_std = init_std
        self.encoder_convs = encoder_convs
        self.decoder_convs = decoder_convs
        channels = unet_channels(num_down, base_channels)
        self.channels = channels

        def grid_norm(num_features, private, exchange):
            return StreamGridNorm(num_features, num_tasks, num_inputs, private=private,
                                  exchange=exchange, norm_cfg=norm_cfg,
                                  threshold=threshold, exchange_mode=exchange_mode,
                                  exchange_replacement=exchange_replacement,
                                  exchange_policy=exchange_policy)

        # encoder: level i maps channels[i-1] -> channels[i] at half the resolution
        def encoder_levels():
            return nn.ModuleList(
                nn.Conv2d(in_channels if i == 0 else channels[i - 1], channels[i], 4, 2,
                          1) for i in range(num_down))

        if encoder_convs == 'shared':
            self.down_convs = encoder_levels()
        else:
            self.down_convs = nn.ModuleList(
                encoder_levels() for _ in range(self._num_conv_sets(encoder_convs)))
        # norms of encoder levels 1 .. n-2 (down_norms[i-1] belongs to level i)
        self.down_norms = nn.ModuleList(
            grid_norm(channels[i], encoder_norms, 'inputs' if encoder_exchange else None)
            for i in range(1, num_down - 1))

        # decoder level k maps (level k features [+ skip]) -> resolution of level k-1
        def up_in(k):
            return channels[k] * (1 if k == num_down - 1 else 2)

        def up_out(k):
            return out_channels if k == 0 else channels[k - 1]

        num_decoders = self._num_conv_sets(decoder_convs)
        self.up_convs = nn.ModuleList(
            nn.ModuleList(
                nn.ConvTranspose2d(up_in(k), up_out(k), 4, 2, 1) for k in range(num_down))
            for _ in range(num_decoders))
        # norms of decoder levels 1 .. n-1 (up_norms[k-1] belongs to level k)
        self.up_norms = nn.ModuleList(
            grid_norm(channels[k - 1], decoder_norms,
                      'tasks' if decoder_exchange else None)
            for k in range(1, num_down))
        # ensemble decision scores α (T, M) (official code: ones -> uniform softmax);
        # none for M = 1. Checkpoints with a top-level `alpha` still load.
        self.ensemble = StreamEnsemble(num_inputs, num_tasks=num_tasks)
        load_legacy_alpha(self, 'ensemble')

    @property
    def alpha(self) -> Optional[nn.Parameter]:
        """``ensemble.alpha`` (T, M), or None for M = 1."""
        return self.ensemble.alpha

    # ---------------------------------------------------------------------------------
    def _dropout_at(self, k: int) -> bool:
        """Whether decoder level k has dropout (the ``num_dropout`` levels nearest the
        bottleneck)."""
        return self.use_dropout and k >= self.num_down - self.num_dropout

    def _num_conv_sets(self, sharing: str) -> int:
        return dict(shared=1, task=self.num_tasks,
                    stream=self.num_tasks * self.num_inputs)[sharing]

    def _private_conv(self, sets: nn.ModuleList, sharing: str, k: int, x: torch.Tensor,
                      tasks: Sequence[int], rows_per_task: int) -> torch.Tensor:
        """Level k of conv set ``sets[s]`` on the rows of set s (task t or stream
        t·M + m of the task-major stack)."""
        if len(sets) == 1:
            return sets[0][k](x)
        if sharing == 'task':
            ids = list(tasks)
            blocks = x.split(rows_per_task)
        else:
            ids = [t * self.num_inputs + m for t in tasks for m in range(self.num_inputs)]
            blocks = x.split(rows_per_task // self.num_inputs)
        return torch.cat([sets[s][k](b) for s, b in zip(ids, blocks)])

    def _down_conv(self, i: int, x: torch.Tensor, tasks: Sequence[int],
                   rows_per_task: int) -> torch.Tensor:
        if self.encoder_convs == 'shared':
            return self.down_convs[i](x)
        return self._private_conv(self.down_convs, self.encoder_convs, i, x, tasks,
                                  rows_per_task)

    def _up_conv(self, k: int, x: torch.Tensor, tasks: Sequence[int],
                 rows_per_task: int) -> torch.Tensor:
        return self._private_conv(self.up_convs, self.decoder_convs, k, x, tasks,
                                  rows_per_task)

    def forward(self, x: torch.Tensor,
                tasks: Optional[Sequence[int]] = None) -> Dict[str, torch.Tensor]:
        """Translate a task-major stack of input streams.

        Args:
            x: (T'·M·N, C_in, H, W); rows ``[(i·M + m)·N, (i·M + m + 1)·N)`` are input
                stream m of the i-th task in ``tasks``.
            tasks: indices of the tasks in ``x`` (default: all T, in order).

        Returns:
            dict with ``streams`` (T', M, N, C_out, H, W), every stream's prediction in
            [-1, 1], and ``ensemble`` (T', N, C_out, H, W), the α-weighted mean of the
            detached stream predictions (for M = 1: the stream's prediction itself).
        """
        tasks = list(range(self.num_tasks)) if tasks is None else list(tasks)
        num_streams = len(tasks) * self.num_inputs
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f'CENUnetGenerator expects (S*N, {self.in_channels}, H, W) '
                             f'inputs, got {tuple(x.shape)}')
        if x.shape[0] % num_streams:
            raise ValueError(
                f'CENUnetGenerator: batch {x.shape[0]} is not a multiple of the '
                f'{len(tasks)} task(s) x {self.num_inputs} input stream(s)')
        size = 2**self.num_down
        if x.shape[2] % size or x.shape[3] % size:
            raise ValueError(f'CENUnetGenerator with num_down={self.num_down} needs '
                             f'height and width divisible by {size}, got '
                             f'{tuple(x.shape[2:])}')
        batch = x.shape[0] // num_streams
        n = self.num_down

        skips = []
        rows_per_task = self.num_inputs * batch
        h = self._down_conv(0, x, tasks, rows_per_task)
        skips.append(h)
        for i in range(1, n):
            h = self._down_conv(i, F.leaky_relu(h, 0.2), tasks, rows_per_task)
            if i < n - 1:
                h = self.down_norms[i - 1](h, tasks)
            skips.append(h)

        for k in range(n - 1, -1, -1):
            h = self._up_conv(k, F.relu(h), tasks, rows_per_task)
            if k == 0:
                h = torch.tanh(h)
                break
            h = self.up_norms[k - 1](h, tasks)
            if self._dropout_at(k):
                h = F.dropout(h, 0.5, self.training)
            h = torch.cat([h, skips[k - 1]], dim=1)

        streams = stream_grid(h, self.num_inputs, len(tasks))  # (T', M, N, C, H, W)
        ensemble = self.ensemble(h, tasks).view(len(tasks), batch, *h.shape[1:])
        return dict(streams=streams, ensemble=ensemble)

    def ensemble_weights(self) -> torch.Tensor:
        """(T, M) softmax(α) per task (ones for M = 1)."""
        return self.ensemble.weights().detach()
