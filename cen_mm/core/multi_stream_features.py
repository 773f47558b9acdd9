"""``MultiStreamFeatures``: the one representation of M streams (× T tasks).

Every CEN network computes all streams at once on a *stream-major stack along the
batch dimension*: a level of shape (S·N, C, H, W) whose rows ``[s·N, (s+1)·N)`` belong
to stream s. Shared convs and heads run once on the stack; private norms and the
exchange (:mod:`cen_mm.core.exchange`) act on each stream's rows.

With tasks (the translation generator: T tasks × M input streams per task) the stack
is *task-major*: S = T·M and stream s = t·M + m is input m of task t. One tensor
then views as the grid (T, M, N, C, H, W) without a copy (:func:`stream_grid`).

:class:`MultiStreamFeatures` holds the stacked levels (``.stacked``, what shared heads
and necks consume) and the stream count, and hands out per-stream views on request
(``.stream(m)``, ``.streams()``). It is immutable and also a read-only sequence of the
per-stream tuples (``feats[m] == feats.stream(m)``, ``len(feats) == T·M``), so code
that iterates streams keeps working.
"""
from collections.abc import Sequence as SequenceABC
from typing import List, Optional, Sequence, Tuple

import torch
from torch import Tensor


def check_stacked(t: Tensor, num_rows: int, what: str) -> int:
    """Batch size N of a stack of ``num_rows`` blocks; a clear error otherwise."""
    rows = int(t.shape[0]) if t.dim() else 0  # int(): a plain number under jit tracing
    if not rows or rows % num_rows:
        raise ValueError(f'{what}: batch dimension {rows} is not a positive '
                         f'multiple of {num_rows} stacked streams')
    return rows // num_rows


def stream_grid(x: Tensor, num_streams: int, num_tasks: int = 1) -> Tensor:
    """View a task-major stack (T·M·N, *) as the grid (T, M, N, *) (no copy)."""
    batch = check_stacked(x, num_tasks * num_streams, 'stream_grid')
    return x.view(num_tasks, num_streams, batch, *x.shape[1:])


class MultiStreamFeatures(SequenceABC):
    """Feature levels of S = T·M streams, stacked stream-major along the batch.

    Args:
        stacked: one tensor per level, each (T·M·N, C_l, H_l, W_l).
        num_streams: M, streams per task.
        num_tasks: T (1 for segmentation / classification backbones).

    Attributes:
        stacked: the tuple of stacked levels (what shared necks and heads consume).
        num_streams, num_tasks, batch_size (N), num_levels.
    """

    __slots__ = ('stacked', 'num_streams', 'num_tasks', 'batch_size')

    def __init__(self, stacked: Sequence[Tensor], num_streams: int, num_tasks: int = 1):
        if isinstance(stacked, Tensor):
            stacked = (stacked, )
        stacked = tuple(stacked)
        if not stacked:
            raise ValueError('MultiStreamFeatures: no feature levels given')
        if num_streams < 1 or num_tasks < 1:
            raise ValueError(f'MultiStreamFeatures: num_streams and num_tasks must be '
                             f'>= 1, got {num_streams} and {num_tasks}')
        rows = num_streams * num_tasks
        batches = {check_stacked(t, rows, f'MultiStreamFeatures level {lvl}')
                   for lvl, t in enumerate(stacked)}
        if len(batches) != 1:
            raise ValueError('MultiStreamFeatures: levels have different batch sizes '
                             f'{[tuple(t.shape) for t in stacked]}')
        object.__setattr__(self, 'stacked', stacked)
        object.__setattr__(self, 'num_streams', num_streams)
        object.__setattr__(self, 'num_tasks', num_tasks)
        object.__setattr__(self, 'batch_size', batches.pop())

    def __setattr__(self, name, value):
        raise AttributeError('MultiStreamFeatures is immutable; build a new one '
                             '(e.g. with .map)')

    # ---- views ----------------------------------------------------------------------
    @property
    def num_levels(self) -> int:
        return len(self.stacked)

    def stream(self, m: int, task: int = 0) -> Tuple[Tensor, ...]:
        """Levels of input stream m of task ``task``, each (N, C_l, H_l, W_l) (views)."""
        if not 0 <= m < self.num_streams or not 0 <= task < self.num_tasks:
            raise IndexError(f'stream {m} of task {task}: there are {self.num_streams} '
                             f'streams x {self.num_tasks} task(s)')
        start = (task * self.num_streams + m) * self.batch_size
        return tuple(t[start:start + self.batch_size] for t in self.stacked)

    def streams(self) -> List[Tuple[Tensor, ...]]:
        """All T·M per-stream level tuples, task-major (views)."""
        return [self.stream(m, t) for t in range(self.num_tasks)
                for m in range(self.num_streams)]

    def select(self, streams: Sequence[int]) -> Tuple[Tensor, ...]:
        """Levels of the given streams (T = 1) stacked in that order,
        (len(streams)·N, C_l, H_l, W_l): ``stacked`` itself (no copy) for all streams in
        order, else a concatenation of the views."""
        streams = list(streams)
        if streams == list(range(self.num_streams * self.num_tasks)):
            return self.stacked
        per_stream = [self[s] for s in streams]
        return tuple(torch.cat([p[lvl] for p in per_stream])
                     for lvl in range(self.num_levels))

    def grid(self, level: int = 0) -> Tensor:
        """Level ``level`` as the grid (T, M, N, C_l, H_l, W_l) (a view)."""
        return stream_grid(self.stacked[level], self.num_streams, self.num_tasks)

    def map(self, fn) -> 'MultiStreamFeatures':
        """New features from ``fn(level_index, stacked_level)`` per level (the stream
        layout is kept; ``fn`` must keep the batch dimension)."""
        return MultiStreamFeatures([fn(lvl, t) for lvl, t in enumerate(self.stacked)],
                                   self.num_streams, self.num_tasks)

    # ---- read-only sequence of per-stream tuples ---------------------------------------
    def __len__(self) -> int:
        return self.num_streams * self.num_tasks

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(len(self))[index]]
        if not -len(self) <= index < len(self):
            raise IndexError(f'stream index {index} out of range for {len(self)} '
                             'streams')
        task, m = divmod(index % len(self), self.num_streams)
        return self.stream(m, task)

    def __repr__(self) -> str:
        shapes = [tuple(t.shape) for t in self.stacked]
        return (f'MultiStreamFeatures(num_streams={self.num_streams}, num_tasks='
                f'{self.num_tasks}, batch_size={self.batch_size}, stacked={shapes})')


def as_multi_stream(feats, num_streams: Optional[int] = None,
                    what: str = 'input') -> MultiStreamFeatures:
    """``feats`` if it is :class:`MultiStreamFeatures` (with ``num_streams`` streams when
    given); otherwise a ``TypeError`` that says what was expected."""
    if not isinstance(feats, MultiStreamFeatures):
        raise TypeError(
            f'{what}: expected MultiStreamFeatures (the output of a multi-stream '
            f'backbone such as CENResNet / MultiStreamBackbone), got '
            f'{type(feats).__name__}')
    if num_streams is not None and feats.num_streams * feats.num_tasks != num_streams:
        raise TypeError(f'{what}: expected {num_streams} streams, got '
                        f'{feats.num_streams * feats.num_tasks}')
    return feats
