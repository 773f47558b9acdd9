"""Channel exchange — *the* place where CEN swaps channels between streams.

Given the post-norm features of M streams and each stream's norm scaling factors γ,
a channel c of stream m with ``|γ[m, c]| < θ`` is replaced by the mean over the other
streams ``m' != m`` of their post-norm values of channel c (NeurIPS'20 Eq. 6,
TPAMI'23 Eq. 3, generalised to M streams):

    x'[m, :, c] = x[m, :, c]                                  if |γ[m, c]| >= θ
                  mean_{m' != m} x[m', :, c]                   otherwise

The replaced value gets no gradient; the replacing values do. Which channels may be
exchanged is selected by ``mode``:

* ``'subpart'`` (papers): only inside stream m's own sub-part (see ``subparts.py``),
  where the sparsity penalty acts, so at most one stream gives up a given channel.
* ``'all'`` (official code): wherever ``|γ| < θ``.
"""
import math
from typing import List, Optional, Sequence

import torch
from torch.autograd.function import once_differentiable

EXCHANGE_MODES = ('subpart', 'all')
# True while torch.compile traces (dynamo evaluates it at trace time)
_is_compiling = torch.compiler.is_compiling


def exchange_mask(gamma: torch.Tensor, threshold: float,
                  owner_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Bool (M, C): which (stream, channel) pairs are replaced.

    Args:
        gamma: (M, C) scaling factors of the M private norms (not differentiated).
        threshold: θ.
        owner_mask: (M, C) sub-part ownership, or None for mode ``'all'``.
    """
    mask = gamma.detach().abs() < threshold
    if owner_mask is not None:
        mask = mask & owner_mask.to(mask.device)
    return mask


def channel_exchange(x: torch.Tensor, mask: torch.Tensor,
                     streams_shape: Optional[Sequence[int]] = None,
                     sync_free: Optional[bool] = None) -> torch.Tensor:
    """Exchange channels between streams.

    Args:
        x: (M, N, C, *spatial) post-norm features of M streams (stream-major); or,
            with ``streams_shape``, any contiguous tensor holding them in that order,
            e.g. a norm's (M*N, C, *spatial) output. Passing that tensor itself rather
            than a view of it spares autograd's bookkeeping of in-place changes to
            views (which copies the whole gradient several times in backward).
        mask: (M, C) bool from :func:`exchange_mask`.
        streams_shape: (M, N, C, *spatial) when ``x`` has another shape.
        sync_free: how the replaced pairs are found. ``False``: the mask is read on
            the host and only the replaced channels are indexed (cheapest on CPU,
            where reading it costs nothing). ``True``: a masked blend over all
            channels computed on the device, with no host synchronisation and no
            data-dependent shapes (no graph break under ``torch.compile``). ``None``
            (default): ``True`` on accelerators and while compiling, else ``False``.
            Both give bit-identical values and gradients.

    Returns:
        ``x``, changed **in place**: only the replaced (stream, channel) pairs are
        touched, computed from the other streams' values (``x`` must not be needed by
        autograd elsewhere; a norm's output is not). If no channel is exchanged, ``x``
        itself is returned untouched.

    Cost: reading and writing the replaced pairs only (K replaced (stream, channel)
    pairs move about (M-1)·N·K·S values forward; backward copies the gradient once and
    touches the K pairs). The sync-free blend reads and writes every value of the
    M streams a few times instead (element-wise passes, cheap on accelerators).
    """
    shape = tuple(x.shape) if streams_shape is None else tuple(streams_shape)
    if streams_shape is not None and (math.prod(shape) != x.numel()
                                      or not x.is_contiguous()):
        raise ValueError(f'channel_exchange: a contiguous tensor with the '
                         f'{math.prod(shape)} elements of streams_shape {shape} is '
                         f'needed, got shape {tuple(x.shape)}')
    num_streams = shape[0]
    if num_streams < 2:
        raise ValueError('channel exchange needs at least 2 streams, got '
                         f'{num_streams}')
    if len(shape) < 3 or mask.shape != (num_streams, shape[2]):
        raise ValueError(f'mask must have shape (M, C)=({num_streams}, '
                         f'{shape[2] if len(shape) > 2 else "?"}), got '
                         f'{tuple(mask.shape)}')
    if sync_free is None:
        sync_free = x.device.type != 'cpu' or _is_compiling()
    if sync_free:
        mask = mask.detach().to(x.device)
        if not (torch.is_grad_enabled() and x.requires_grad):
            # nothing to record (inference); also keeps torch.compile from a graph
            # break, as dynamo cannot trace the Function's mark_dirty outside apply
            _masked_exchange_in_place(x.view(shape), mask)
            return x
        return _MaskedChannelExchange.apply(x, mask, shape)
    return exchange_by_indices(x, exchange_indices(mask, x.device), shape)


def exchange_indices(mask: torch.Tensor,
                     device: torch.device) -> Optional[List[Optional[torch.Tensor]]]:
    """The indexed path's form of a (M, C) mask (read on the host): for every stream
    m the (K_m,) channel indices it replaces, on ``device``, or None where it replaces
    none; None if no stream replaces any channel."""
    mask = mask.detach().cpu()
    counts = mask.sum(dim=1).tolist()
    if not any(counts):
        return None
    flat = mask.nonzero()[:, 1].to(device)  # channel indices, stream-major
    return [c if n else None for c, n in zip(flat.split(counts), counts)]


def exchange_by_indices(x: torch.Tensor,
                        channels: Optional[List[Optional[torch.Tensor]]],
                        shape: Sequence[int]) -> torch.Tensor:
    """:func:`channel_exchange`'s indexed path with the indices of
    :func:`exchange_indices` (e.g. kept between calls while γ is unchanged): ``x``
    changed in place, or ``x`` untouched if ``channels`` is None. ``shape``: (M, N, C,
    *S) of the contiguous ``x``."""
    if channels is None:
        return x
    if not (torch.is_grad_enabled() and x.requires_grad):
        _exchange_in_place(x.view(tuple(shape)), channels)  # nothing to record
        return x
    return _ChannelExchange.apply(x, channels, tuple(shape))


def exchange_rows(channels: Optional[List[Optional[torch.Tensor]]], batch: int,
                  num_channels: int) -> Optional[tuple]:
    """The indices of :func:`exchange_indices` as rows of the (M*N*C, L) view of a
    contiguous (M, N, C, *S) tensor (row ``(m*N + n)*C + c``), for
    :func:`exchange_rows_in_place`: ``(dst, src)`` with ``dst`` (R,) the replaced
    rows (stream-major, then sample, then channel, as :func:`_exchange_in_place`
    writes them) and ``src`` ((M-1)*R,) their sources, j-major: block j holds, for
    each replaced row of stream m, the row of the j-th stream m' != m (ascending m',
    the order :func:`_others_mean` sums in). None if ``channels`` is None. Built
    once per change of γ or N (kept in the inference plan)."""
    if channels is None:
        return None
    num_streams = len(channels)
    device = next(c for c in channels if c is not None).device
    samples = torch.arange(batch, device=device).view(batch, 1)
    dst, src = [], [[] for _ in range(num_streams - 1)]
    for m, c in enumerate(channels):
        if c is None:
            continue
        dst.append(((m * batch + samples) * num_channels + c).reshape(-1))
        others = [k for k in range(num_streams) if k != m]
        for j, k in enumerate(others):
            src[j].append(((k * batch + samples) * num_channels + c).reshape(-1))
    return (torch.cat(dst), torch.cat([torch.cat(s) for s in src]),
            num_streams * batch * num_channels)


def exchange_rows_in_place(rows: torch.Tensor, plan: Optional[tuple],
                           num_streams: int) -> torch.Tensor:
    """:func:`_exchange_in_place` on the (M*N*C, L) rows view with the row indices
    of :func:`exchange_rows`, without autograd (inference): one gather of every
    source row, M-2 in-place adds and a division (M > 2), one scatter. Bit-identical
    to the per-stream loop (same operands, same order of additions). Returns
    ``rows``."""
    if plan is None:
        return rows
    dst, src = plan[:2]
    gathered = rows.index_select(0, src).view(num_streams - 1, dst.numel(),
                                              rows.shape[1])
    total = gathered[0]
    for j in range(1, num_streams - 1):
        total.add_(gathered[j])
    if num_streams > 2:
        total.div_(num_streams - 1)
    return rows.index_copy_(0, dst, total)


def exchange_by_rows(x: torch.Tensor, plan: Optional[tuple],
                     num_streams: int) -> torch.Tensor:
    """:func:`exchange_by_indices` with the row indices of :func:`exchange_rows`:
    ``x`` (contiguous, the M streams stream-major) changed in place, recorded by
    autograd where it needs to be; ``x`` untouched if ``plan`` is None. Same values
    and gradients as the per-stream Function (tested)."""
    if plan is None:
        return x
    if not (torch.is_grad_enabled() and x.requires_grad):
        exchange_rows_in_place(x.view(plan[2], -1), plan[:2], num_streams)
        return x
    return _RowsChannelExchange.apply(x, plan, num_streams)


def _exchange_in_place(streams: torch.Tensor,
                       channels: List[Optional[torch.Tensor]]) -> None:
    """Replace ``streams[m, :, channels[m]]`` (``streams``: (M, N, C, *S)) by the
    other streams' mean, all computed from the values before any replacement."""
    new_values = [(m, c, _others_mean(streams, m, c))
                  for m, c in enumerate(channels) if c is not None]
    for m, c, values in new_values:
        streams[m].index_copy_(1, c, values)


def _others_mean(x: torch.Tensor, m: int, channels: torch.Tensor) -> torch.Tensor:
    """(N, K, *S): mean over streams m' != m of ``x[m', :, channels]`` (a new tensor)."""
    others = [k for k in range(x.shape[0]) if k != m]
    total = x[others[0]].index_select(1, channels)
    for k in others[1:]:
        total.add_(x[k].index_select(1, channels))
    return total.div_(len(others)) if len(others) > 1 else total


class _ChannelExchange(torch.autograd.Function):
    """In-place exchange of the (stream, channel) pairs given per stream.

    ``channels[m]``: (K_m,) channel indices that stream m replaces, or None.
    Forward: ``x[m, :, c] = mean_{m' != m} x[m', :, c]`` (from the values before any
    replacement). Backward: a replaced value passes no gradient to its own input; its
    gradient goes, divided by M-1, to the other streams' values that replaced it.
    """

    @staticmethod
    def forward(ctx, x, channels, shape):
        _exchange_in_place(x.view(shape), channels)
        ctx.mark_dirty(x)
        ctx.channels = channels
        ctx.shape = shape
        return x

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        shape = ctx.shape
        num_streams = shape[0]
        grad_in = grad.clone(memory_format=torch.contiguous_format)
        grad = grad.reshape(shape)
        streams = grad_in.view(shape)
        for m, c in enumerate(ctx.channels):
            if c is not None:
                streams[m].index_fill_(1, c, 0)
        for m, c in enumerate(ctx.channels):
            if c is None:
                continue
            passed = grad[m].index_select(1, c)
            if num_streams > 2:
                passed = passed.div_(num_streams - 1)
            for k in range(num_streams):
                if k != m:
                    streams[k].index_add_(1, c, passed)
        return grad_in, None, None


class _RowsChannelExchange(torch.autograd.Function):
    """:class:`_ChannelExchange` on the (M*N*C, L) rows view with the row indices
    of :func:`exchange_rows` (one gather and one scatter forward; backward: one
    clone, one ``index_fill_``, one gather and M-1 ``index_add_``). The gradient a
    source row receives is summed in ascending order of the replaced stream m, as in
    :class:`_ChannelExchange`: block j of ``src`` reaches stream k from streams
    m < k (j = k-1) before streams m > k (j = k), each in ascending m."""

    @staticmethod
    def forward(ctx, x, plan, num_streams):
        exchange_rows_in_place(x.view(plan[2], -1), plan[:2], num_streams)
        ctx.mark_dirty(x)
        ctx.plan = plan
        ctx.num_streams = num_streams
        return x

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        dst, src, total_rows = ctx.plan
        num_streams = ctx.num_streams
        grad_in = grad.clone(memory_format=torch.contiguous_format)
        rows_in = grad_in.view(total_rows, -1)
        passed = grad.reshape(total_rows, -1).index_select(0, dst)
        if num_streams > 2:
            passed = passed.div_(num_streams - 1)
        rows_in.index_fill_(0, dst, 0)
        count = dst.numel()
        for j in range(num_streams - 1):
            rows_in.index_add_(0, src[j * count:(j + 1) * count], passed)
        return grad_in, None, None


def _others_means(streams: torch.Tensor) -> torch.Tensor:
    """(M, N, C, *S) -> (M, N, C, *S): for every m the mean over m' != m of
    ``streams[m']``, summed in the same order as :func:`_others_mean` (bit-identical)."""
    num_streams = streams.shape[0]
    if num_streams == 2:
        return streams.flip(0)
    means = []
    for m in range(num_streams):
        others = [k for k in range(num_streams) if k != m]
        total = streams[others[0]].clone()
        for k in others[1:]:
            total.add_(streams[k])
        means.append(total.div_(len(others)))
    return torch.stack(means)


def _masked_exchange_in_place(streams: torch.Tensor, mask: torch.Tensor) -> None:
    """``streams`` (M, N, C, *S): replaced (stream, channel) pairs of the (M, C) bool
    ``mask`` set to the other streams' mean, as a blend over all channels."""
    shape = streams.shape
    replaced = mask.view(shape[0], 1, shape[2], *([1] * (len(shape) - 3)))
    streams.copy_(torch.where(replaced, _others_means(streams), streams))


class _MaskedChannelExchange(torch.autograd.Function):
    """The exchange of :class:`_ChannelExchange` as a masked blend over all channels:
    no host synchronisation, no data-dependent shapes. ``mask``: (M, C) bool on the
    device of ``x``. Same values and gradients as the indexed version."""

    @staticmethod
    def forward(ctx, x, mask, shape):
        _masked_exchange_in_place(x.view(shape), mask)
        ctx.mark_dirty(x)
        ctx.save_for_backward(mask)
        ctx.shape = shape
        return x

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        (mask,) = ctx.saved_tensors
        shape = ctx.shape
        num_streams = shape[0]
        replaced = mask.view(num_streams, 1, shape[2], *([1] * (len(shape) - 3)))
        grad_in = grad.clone(memory_format=torch.contiguous_format)
        streams = grad_in.view(shape)
        passed = torch.where(replaced, grad.reshape(shape), 0)
        if num_streams > 2:
            passed = passed.div_(num_streams - 1)
        streams.masked_fill_(replaced, 0)
        for m in range(num_streams):
            for k in range(num_streams):
                if k != m:
                    streams[k].add_(passed[m])
        return grad_in, None, None
