"""Per-stream feature levels that remember the stacked tensors they are views of.

A multi-stream backbone computes every level on the stream-major stack (M*N, C, H, W)
and hands out M per-stream tuples of views (``chunk``). Consumers shared by all streams
(a decode head, a neck) want the stack back; concatenating the views again copies every
level forward and splits the gradient backward, for nothing. :class:`StreamFeatures`
keeps the stacked levels next to the views, and :func:`stacked_levels` returns them
without a copy whenever they still describe the list.
"""
from typing import Optional, Sequence, Tuple

import torch
from torch import Tensor


class StreamFeatures(list):
    """A list of M tuples (stream m's levels, each (N, C_l, H_l, W_l)) that also keeps
    ``stacked``: the tuple of stream-major (M*N, C_l, H_l, W_l) levels they are
    chunks of.

    It *is* the plain list of per-stream tuples that multi-stream consumers expect;
    only :func:`stacked_levels` looks at ``stacked``.
    """

    def __init__(self, stacked: Sequence[Tensor], num_streams: int):
        stacked = tuple(stacked)
        for level, t in enumerate(stacked):
            if t.shape[0] % num_streams:
                raise ValueError(f'StreamFeatures: level {level} has batch '
                                 f'{t.shape[0]}, not a multiple of {num_streams} '
                                 'streams')
        chunks = [t.chunk(num_streams) for t in stacked]
        super().__init__(tuple(c[m] for c in chunks) for m in range(num_streams))
        self.stacked = stacked
        self.num_streams = num_streams
        self._views = tuple(self)  # to notice later changes of the list

    def is_intact(self) -> bool:
        """Whether the list still holds exactly the views ``stacked`` was cut into."""
        return len(self) == len(self._views) and all(
            a is b for a, b in zip(self, self._views))


def stacked_levels(feats: Sequence[Sequence[Tensor]],
                   streams: Optional[Sequence[int]] = None) -> Tuple[Tensor, ...]:
    """The levels of ``streams`` (default: all) stacked stream-major along the batch.

    Args:
        feats: M per-stream tuples of levels (a :class:`StreamFeatures` or any list).
        streams: stream indices, in order.

    Returns:
        One (len(streams)*N, C_l, H_l, W_l) tensor per level: ``feats.stacked`` itself
        (no copy) when ``feats`` is an intact :class:`StreamFeatures` and all streams
        are asked for in order; otherwise a ``torch.cat`` of the views.
    """
    streams = list(range(len(feats))) if streams is None else list(streams)
    if (isinstance(feats, StreamFeatures) and feats.is_intact()
            and streams == list(range(feats.num_streams))):
        return feats.stacked
    num_levels = len(feats[streams[0]])
    return tuple(torch.cat([feats[m][lvl] for m in streams])
                 for lvl in range(num_levels))


