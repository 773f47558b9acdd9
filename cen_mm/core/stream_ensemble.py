"""The ensemble over streams, its output selection and the loss naming (one module).

Every stream predicts; the CEN ensemble (NeurIPS'20 §3, official code) is

    ens = Σ_m softmax(α)_m · detach(out_m)          α: (M,), init 1 (uniform)

or, for a generator over T tasks × M input streams, one softmax per task (α: (T, M)).
Stream outputs are detached, so a loss on the ensemble trains α only (the streams are
trained by their own losses). :class:`ConcatFusionEnsemble` is the NeurIPS'20 §4.1
ablation 4 ("replace the ensemble of experts with a concat-fusion block").

Both take the stream outputs in the one stream layout of :mod:`.multi_stream_features`:
a stream-major stack (T'·M·N, K, ...) and return the ensemble (T'·N, K, ...).

The same module serves the segmentor, the classifier and the translation generator:

* output selection: ``'ensemble'``, a stream index m, or ``'all'``
  (:meth:`BaseStreamEnsemble.select`, :meth:`~BaseStreamEnsemble.outputs`);
* names: ``s{m}`` for stream m and ``ens`` for the ensemble, e.g. the segmentor's
  ``s0.decode.loss_ce`` / ``ens.decode.loss_ce`` and the classifier's ``s1.loss``
  (:meth:`~BaseStreamEnsemble.output_names`, :meth:`~BaseStreamEnsemble.name_losses`);
* checkpoints written before this module existed hold ``alpha`` at the model's top
  level: :func:`load_legacy_alpha` moves it to ``ensemble.alpha`` when loading.
"""
from typing import Dict, List, Optional, Sequence, Union

import torch
import torch.nn as nn
from mmengine.registry import MODELS
from torch import Tensor

from .multi_stream_features import stream_grid

ENSEMBLE = 'ensemble'
ALL = 'all'
ENSEMBLE_NAME = 'ens'
Output = Union[str, int]


def stream_name(m: int) -> str:
    """Name (loss / log prefix) of stream m: ``s{m}``."""
    return f's{m}'


class BaseStreamEnsemble(nn.Module):
    """Output selection and naming shared by the ensemble types.

    Subclasses implement ``forward(stacked, tasks=None)``: stream-major stack
    (T'·M·N, ...) -> ensemble (T'·N, ...).
    """

    def __init__(self, num_streams: int):
        super().__init__()
        if not isinstance(num_streams, int) or num_streams < 1:
            raise ValueError(f'{type(self).__name__}: num_streams must be a positive '
                             f'int, got {num_streams!r}')
        self.num_streams = num_streams

    # ---- selection --------------------------------------------------------------------
    def check_output(self, output: Output, key: str = 'output',
                     allow_all: bool = False) -> None:
        """Raise ``ValueError`` (naming ``key``) unless ``output`` is ``'ensemble'``,
        a stream index in [0, M) or, with ``allow_all``, ``'all'``."""
        ok = output == ENSEMBLE or (allow_all and output == ALL) or (
            isinstance(output, int) and not isinstance(output, bool)
            and 0 <= output < self.num_streams)
        if not ok:
            choices = f"'{ENSEMBLE}'" + (f", '{ALL}'" if allow_all else '')
            raise ValueError(f'{key} must be {choices} or a stream index in '
                             f'[0, {self.num_streams}), got {output!r}')

    def outputs(self, stacked: Tensor) -> List[Tensor]:
        """[out_0, ..., out_{M-1}, ens] from the stack (M·N, ...) (streams are views)."""
        return list(stacked.chunk(self.num_streams)) + [self(stacked)]

    def select(self, stacked: Tensor, output: Output = ENSEMBLE
               ) -> Union[Tensor, List[Tensor]]:
        """The output named by ``output``: the ensemble (N, ...), stream m's (N, ...),
        or ``'all'``: the list of :meth:`outputs`."""
        self.check_output(output, allow_all=True)
        if output == ALL:
            return self.outputs(stacked)
        if output == ENSEMBLE:
            return self(stacked)
        return stacked.chunk(self.num_streams)[output]

    # ---- naming -----------------------------------------------------------------------
    def output_names(self) -> List[str]:
        """``['s0', ..., 's{M-1}', 'ens']``, in the order of :meth:`outputs`."""
        return [stream_name(m) for m in range(self.num_streams)] + [ENSEMBLE_NAME]

    def name_losses(self, losses: Sequence[Dict[str, Tensor]],
                    scope: Optional[str] = None) -> Dict[str, Tensor]:
        """One loss dict per output (order of :meth:`outputs`) -> one dict with keys
        ``{name}.{scope}.{key}`` (``{name}.{key}`` without a scope)."""
        names = self.output_names()
        if len(losses) != len(names):
            raise ValueError(f'{len(losses)} loss dicts for the outputs {names}')
        named = dict()
        for name, loss in zip(names, losses):
            prefix = name if scope is None else f'{name}.{scope}'
            named.update({f'{prefix}.{k}': v for k, v in loss.items()})
        return named


@MODELS.register_module()
class StreamEnsemble(BaseStreamEnsemble):
    """Σ_m softmax(α)_m · detach(out_m) (per task for a task grid).

    Args:
        num_streams: M.
        num_tasks: None: α has shape (M,); T: α has shape (T, M), one ensemble per
            task of a task-major stack.
        init_value: initial α (1: the official code; any constant gives the mean).

    Parameters: ``alpha`` (M,) or (T, M); None when M = 1 (the ensemble is the single
    stream's output).
    """

    def __init__(self, num_streams: int, num_tasks: Optional[int] = None,
                 init_value: float = 1.0):
        super().__init__(num_streams)
        if num_tasks is not None and num_tasks < 1:
            raise ValueError(f'StreamEnsemble: num_tasks must be >= 1, got {num_tasks}')
        self.num_tasks = num_tasks
        self.init_value = init_value
        shape = (num_streams, ) if num_tasks is None else (num_tasks, num_streams)
        if num_streams > 1:
            self.alpha = nn.Parameter(torch.full(shape, float(init_value)))
        else:
            self.register_parameter('alpha', None)

    def init_weights(self) -> None:
        if self.alpha is not None:
            nn.init.constant_(self.alpha, self.init_value)

    def _task_ids(self, tasks: Optional[Sequence[int]]) -> List[int]:
        num_tasks = self.num_tasks or 1
        tasks = list(range(num_tasks)) if tasks is None else list(tasks)
        if not tasks or any(not 0 <= t < num_tasks for t in tasks):
            raise ValueError(f'StreamEnsemble: tasks {tasks} out of range '
                             f'[0, {num_tasks})')
        return tasks

    def weights(self, tasks: Optional[Sequence[int]] = None) -> Tensor:
        """softmax(α) with gradient: (M,), or (T', M) for the ``tasks`` of a grid."""
        if self.alpha is None:
            ones = torch.ones(self.num_streams)
            return ones if self.num_tasks is None else ones.expand(
                len(self._task_ids(tasks)), 1)
        if self.num_tasks is None:
            return self.alpha.softmax(dim=0)
        return self.alpha[self._task_ids(tasks)].softmax(dim=1)

    def forward(self, stacked: Tensor, tasks: Optional[Sequence[int]] = None) -> Tensor:
        """Args:
            stacked: (T'·M·N, ...) stream outputs, task-major (T' = 1 without tasks).
            tasks: the T' task indices of a grid (default: all, in order).

        Returns:
            (T'·N, ...): the α-weighted sum of the detached stream outputs of each task.
        """
        num_tasks = 1 if self.num_tasks is None else len(self._task_ids(tasks))
        grid = stream_grid(stacked, self.num_streams, num_tasks)  # (T', M, N, ...)
        if self.alpha is None:
            return grid[:, 0].reshape(-1, *stacked.shape[1:])
        # one (1 x M) @ (M x R) product per task: no M-fold temporary, and the
        # gradient to α is one product as well (measured 2x faster than a
        # broadcast multiply-and-sum on RefineNet-sized logits)
        weights = self.weights(tasks).to(stacked.dtype)
        rows = grid.detach().reshape(num_tasks, self.num_streams, -1)  # (T', M, R)
        ens = torch.bmm(weights.reshape(num_tasks, 1, self.num_streams), rows)
        return ens.reshape(-1, *stacked.shape[1:])

    def extra_repr(self) -> str:
        return f'num_streams={self.num_streams}, num_tasks={self.num_tasks}'


@MODELS.register_module()
class ConcatFusionEnsemble(BaseStreamEnsemble):
    """Concat-fusion block instead of the ensemble of experts (NeurIPS'20 §4.1, 4).

    The M stream outputs are concatenated along the channels and fused by a 1x1 conv
    to the output channels: ens = W · [out_0; ...; out_{M-1}] + b. Initialised to the
    uniform mean (W = [I/M, ..., I/M], b = 0) so training starts from the ensemble of
    experts at α = const. With ``detach=True`` (default) the stream outputs are
    detached, so the ensemble loss trains only this block, as it trains only α in
    :class:`StreamEnsemble`.

    Args:
        num_streams: M.
        channels: K, channels of every stream output (e.g. the number of classes).
        detach: detach the stream outputs.

    Shapes: (M·N, K, ...) stream-major -> (N, K, ...); (M·N, K) logits of a
    classifier are treated as 1x1 maps.
    """

    def __init__(self, num_streams: int, channels: int, detach: bool = True):
        super().__init__(num_streams)
        if not isinstance(channels, int) or channels < 1:
            raise ValueError(f'ConcatFusionEnsemble: channels must be a positive int '
                             f'(the channels of one stream output), got {channels!r}')
        self.channels = channels
        self.detach = detach
        self.fuse = nn.Conv2d(num_streams * channels, channels, kernel_size=1)
        self.init_weights()

    def init_weights(self) -> None:
        eye = torch.eye(self.channels) / self.num_streams
        with torch.no_grad():
            self.fuse.weight.copy_(eye.repeat(1, self.num_streams)[..., None, None])
            self.fuse.bias.zero_()

    def forward(self, stacked: Tensor, tasks: Optional[Sequence[int]] = None) -> Tensor:
        if tasks is not None and list(tasks) != [0]:
            raise ValueError('ConcatFusionEnsemble has no task grid (tasks must be None)')
        if stacked.dim() < 2 or stacked.shape[1] != self.channels:
            raise ValueError(f'ConcatFusionEnsemble(channels={self.channels}) got '
                             f'stream outputs of shape {tuple(stacked.shape)}')
        grid = stream_grid(stacked, self.num_streams)[0]  # (M, N, K, ...)
        if self.detach:
            grid = grid.detach()
        spatial = grid.shape[3:]
        x = torch.cat(grid.unbind(0), dim=1)  # (N, M·K, ...)
        if not spatial:
            return self.fuse(x[..., None, None])[..., 0, 0]
        return self.fuse(x)

    def extra_repr(self) -> str:
        return (f'num_streams={self.num_streams}, channels={self.channels}, '
                f'detach={self.detach}')


def build_stream_ensemble(cfg: Optional[dict], num_streams: int,
                          **defaults) -> BaseStreamEnsemble:
    """Build ``cfg`` (default ``dict(type='StreamEnsemble')``) with ``num_streams``
    and, where the type takes them and the config does not set them, ``defaults``
    (e.g. ``channels`` for :class:`ConcatFusionEnsemble`)."""
    cfg = dict(type='StreamEnsemble') if cfg is None else dict(cfg)
    if cfg.setdefault('num_streams', num_streams) != num_streams:
        raise ValueError(f"ensemble.num_streams={cfg['num_streams']} but the model has "
                         f'{num_streams} streams')
    if cfg.get('type') in ('ConcatFusionEnsemble', ConcatFusionEnsemble):
        for key in ('channels', ):
            if key in defaults:
                cfg.setdefault(key, defaults[key])
    if cfg.get('type') in ('StreamEnsemble', StreamEnsemble):
        if defaults.get('num_tasks') is not None:
            cfg.setdefault('num_tasks', defaults['num_tasks'])
    ensemble = MODELS.build(cfg)
    if not isinstance(ensemble, BaseStreamEnsemble):
        raise TypeError(f'ensemble={cfg} built a {type(ensemble).__name__}, expected a '
                        'BaseStreamEnsemble (StreamEnsemble, ConcatFusionEnsemble)')
    return ensemble


def load_legacy_alpha(model: nn.Module, attr: str = 'ensemble') -> None:
    """Let ``model`` load checkpoints that hold α as ``alpha`` at its top level (written
    before the ensemble module existed): the key is moved to ``{attr}.alpha``.

    Registered as a state-dict pre-hook on ``model``, so ``load_state_dict(strict=True)``,
    mmengine's ``load_checkpoint`` and ``Runner.resume`` all see the new key. An old
    ``alpha`` of a one-stream model (no ensemble weights now) is dropped: softmax of one
    value is 1 whatever it was.
    """

    def hook(module, state_dict, prefix, *args, **kwargs):
        old = prefix + 'alpha'
        if old not in state_dict:
            return
        ensemble = getattr(module, attr)
        if getattr(ensemble, 'alpha', None) is not None:
            state_dict.setdefault(f'{prefix}{attr}.alpha', state_dict.pop(old))
        elif getattr(ensemble, 'num_streams', None) == 1:
            state_dict.pop(old)
        # otherwise (e.g. a ConcatFusionEnsemble) the old key stays unexpected, and a
        # strict load says so

    model.register_load_state_dict_pre_hook(hook)
