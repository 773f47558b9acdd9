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
from typing import Optional

import torch

EXCHANGE_MODES = ('subpart', 'all')


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


def channel_exchange(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Exchange channels between streams.

    Args:
        x: (M, N, C, *spatial) post-norm features of M streams (stream-major).
        mask: (M, C) bool from :func:`exchange_mask`.

    Returns:
        A tensor of the same shape. Only the channels where some stream exchanges are
        touched: they are gathered (K of C), recomputed and written back into ``x``
        **in place** (``x`` must not be needed by autograd elsewhere; a norm's output
        is not). If no channel is exchanged, ``x`` itself is returned.
    """
    num_streams = x.shape[0]
    if num_streams < 2:
        raise ValueError('channel exchange needs at least 2 streams, got '
                         f'{num_streams}')
    if mask.shape != (num_streams, x.shape[2]):
        raise ValueError(f'mask must have shape (M, C)=({num_streams}, '
                         f'{x.shape[2]}), got {tuple(mask.shape)}')
    channels = mask.any(dim=0).nonzero().squeeze(1)  # (K,)
    if channels.numel() == 0:
        return x
    sub = x.index_select(2, channels)  # (M, N, K, *S) copy of the touched channels
    others_mean = (sub.sum(dim=0, keepdim=True) - sub) / (num_streams - 1)
    sel = mask[:, channels].view(num_streams, 1, -1, *([1] * (x.dim() - 3)))
    new = torch.where(sel, others_mean, sub)
    return x.index_copy_(2, channels, new)
