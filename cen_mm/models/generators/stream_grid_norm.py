"""``StreamGridNorm``: norm (+ exchange) for streams forming a tasks × inputs grid.

A CEN translation generator runs S = T·M streams through one set of shared convs: T tasks
(output domains, or cycle-fusion flows) times M input streams per task. They are stacked
*task-major* along the batch dimension: a tensor (T·M·N, C, H, W) whose rows
``[(t·M + m)·N, (t·M + m + 1)·N)`` belong to (task t, input m) — the task-major layout
of :class:`cen_mm.core.MultiStreamFeatures` (``num_tasks=T``), viewed as the grid
(T, M, N, C, H, W) by :func:`cen_mm.core.stream_grid`. Which norm parameters the
streams share, and between which streams channels are exchanged, is what distinguishes
the papers' variants (TPAMI'23 §3.2–3.5):

``private``
    ``'stream'``: one norm per (task, input) (encoders of all variants; the official
    code's decoders). ``'task'``: one norm per task, shared by its M input streams (the
    papers' decoders: "share ... INs in the decoder"). ``'shared'``: one norm for all.
``exchange``
    ``None``; ``'inputs'``: channel exchange among the M input streams of each task
    (multimodal fusion, CEN-enc); ``'tasks'``: among the T tasks, separately for each
    input stream m (multitask, CEN-dec).

Every exchange group is an ordinary :class:`cen_mm.core.ModalityNorm` (kept in
``self.groups``), so the sparsity/statistics hooks find the exchanging layers through
``iter_exchanging_norms`` and the exchange itself happens in ``cen_mm.core.exchange``:

=========  ==========  ===============================================================
private    exchange    ``groups``
=========  ==========  ===============================================================
shared     None        ``[ModalityNorm(C, 1)]``
task       None/tasks  ``[ModalityNorm(C, T)]``: task t's block of M·N rows is stream t
stream     None/inputs ``[ModalityNorm(C, M) for t in T]``: applied to task t's block
stream     tasks       ``[ModalityNorm(C, T) for m in M]``: applied to the rows of input m
=========  ==========  ===============================================================

``forward(x, tasks)`` may run a subset of the tasks (CEN-random trains one flow per step):
then ``x`` holds only those tasks' blocks, in the given order. Exchange across tasks needs
all of them.
"""
from typing import Optional, Sequence

import torch
import torch.nn as nn
from mmengine.registry import MODELS

from cen_mm.core import ModalityNorm, stream_grid

PRIVATE_MODES = ('stream', 'task', 'shared')
EXCHANGE_AXES = (None, 'inputs', 'tasks')


@MODELS.register_module()
class StreamGridNorm(nn.Module):
    """Norm (+ channel exchange) over a task-major stack of T tasks × M input streams.

    Args:
        num_features: channels C.
        num_tasks: T.
        num_inputs: M.
        private: ``'stream'`` | ``'task'`` | ``'shared'`` (see module docstring).
        exchange: ``None`` | ``'inputs'`` | ``'tasks'``.
        norm_cfg: one norm layer (mmcv style); exchange needs ``affine=True``.
        threshold: θ of the exchanging groups.
        exchange_mode: ``'subpart'`` (papers) or ``'all'`` (official code).
        exchange_replacement: what an exchanged channel gets in the exchanging groups;
            None: the other streams' mean. See :mod:`cen_mm.core.exchange_replacements`.
        exchange_policy: which channels the exchanging groups replace; None: CEN's
            ``|γ| < θ``. See :mod:`cen_mm.core.exchange_policies`.

    Shapes: input and output (T'·M·N, C, H, W) for the T' tasks given to ``forward``.
    """

    def __init__(self,
                 num_features: int,
                 num_tasks: int,
                 num_inputs: int,
                 private: str = 'stream',
                 exchange: Optional[str] = None,
                 norm_cfg: Optional[dict] = None,
                 threshold: float = 1e-2,
                 exchange_mode: str = 'subpart',
                 exchange_replacement: Optional[dict] = None,
                 exchange_policy: Optional[dict] = None):
        super().__init__()
        if private not in PRIVATE_MODES:
            raise ValueError(f'private must be one of {PRIVATE_MODES}, got {private!r}')
        if exchange not in EXCHANGE_AXES:
            raise ValueError(f'exchange must be one of {EXCHANGE_AXES}, got {exchange!r}')
        if num_tasks < 1 or num_inputs < 1:
            raise ValueError('num_tasks and num_inputs must be >= 1, got '
                             f'{num_tasks} and {num_inputs}')
        if exchange == 'inputs' and (private != 'stream' or num_inputs < 2):
            raise ValueError(
                "exchange='inputs' needs private='stream' norms and num_inputs >= 2 "
                f'(got private={private!r}, num_inputs={num_inputs})')
        if exchange == 'tasks' and (private == 'shared' or num_tasks < 2):
            raise ValueError(
                "exchange='tasks' needs private='task' or 'stream' norms and "
                f'num_tasks >= 2 (got private={private!r}, num_tasks={num_tasks})')
        norm_cfg = dict(type='IN', affine=True) if norm_cfg is None else norm_cfg
        self.num_features = num_features
        self.num_tasks = num_tasks
        self.num_inputs = num_inputs
        self.private = private
        self.exchange = exchange

        def group(num_streams: int, exchanging: bool) -> ModalityNorm:
            return ModalityNorm(num_features, num_streams, norm_cfg=norm_cfg,
                                exchange=exchanging, threshold=threshold,
                                exchange_mode=exchange_mode,
                                exchange_replacement=exchange_replacement
                                if exchanging else None,
                                exchange_policy=exchange_policy if exchanging else None)

        if private == 'shared':
            groups = [group(1, False)]
        elif private == 'task':
            groups = [group(num_tasks, exchange == 'tasks')]
        elif exchange == 'tasks':
            groups = [group(num_tasks, True) for _ in range(num_inputs)]
        else:
            groups = [group(num_inputs, exchange == 'inputs') for _ in range(num_tasks)]
        self.groups = nn.ModuleList(groups)

    def _check(self, x: torch.Tensor, tasks: Sequence[int]) -> int:
        if not tasks:
            raise ValueError('StreamGridNorm: no task selected')
        if any(t < 0 or t >= self.num_tasks for t in tasks):
            raise ValueError(f'StreamGridNorm: tasks {list(tasks)} out of range '
                             f'[0, {self.num_tasks})')
        rows = len(tasks) * self.num_inputs
        if x.shape[0] % rows:
            raise ValueError(
                f'StreamGridNorm expects {len(tasks)} task(s) x {self.num_inputs} '
                f'input stream(s) stacked along the batch dimension, got batch '
                f'{x.shape[0]}')
        if self.exchange == 'tasks' and list(tasks) != list(range(self.num_tasks)):
            raise ValueError(
                'StreamGridNorm: exchange across tasks needs all tasks in their '
                f'order {list(range(self.num_tasks))}, got {list(tasks)}')
        return x.shape[0] // rows

    def forward(self, x: torch.Tensor,
                tasks: Optional[Sequence[int]] = None) -> torch.Tensor:
        tasks = list(range(self.num_tasks)) if tasks is None else list(tasks)
        batch = self._check(x, tasks)
        all_tasks = tasks == list(range(self.num_tasks))
        if self.private == 'shared':
            return self.groups[0](x)
        if self.private == 'task':
            if all_tasks:
                return self.groups[0](x)
            # A subset of tasks: apply each selected task's own layer to its block.
            blocks = x.split(self.num_inputs * batch)
            return torch.cat([self.groups[0].norms[t](b) for t, b in zip(tasks, blocks)])
        if self.exchange == 'tasks':
            if self.num_inputs == 1:  # the stack is already stream-major over tasks
                return self.groups[0](x)
            grid = stream_grid(x, self.num_inputs, self.num_tasks)  # (T, M, N, ...)
            out = torch.empty_like(grid)
            for m, norm in enumerate(self.groups):
                rows = grid[:, m].reshape(self.num_tasks * batch, *x.shape[1:])
                out[:, m] = norm(rows).view(self.num_tasks, batch, *x.shape[1:])
            return out.view(x.shape)
        if len(tasks) == 1:
            return self.groups[tasks[0]](x)
        blocks = x.split(self.num_inputs * batch)
        return torch.cat([self.groups[t](b) for t, b in zip(tasks, blocks)])

    def extra_repr(self) -> str:
        return (f'{self.num_features}, num_tasks={self.num_tasks}, '
                f'num_inputs={self.num_inputs}, private={self.private!r}, '
                f'exchange={self.exchange!r}')
