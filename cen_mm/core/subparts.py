"""The channel sub-part convention shared by exchange, the sparsity hook and the stats.

The C channels of an exchanging norm layer are split into M disjoint, contiguous
sub-parts; stream ``m`` owns channels ``[b_m, b_{m+1})`` with ``b_m = floor(m * C / M)``.
When M divides C this is exactly ``[m*C/M, (m+1)*C/M)`` (for M = 2: stream 0 owns the
first half, stream 1 the second half, as in the official CEN code). When M does not divide
C the sub-parts differ in size by at most one channel and the *later* streams get the
extra channels (e.g. C=10, M=3 -> sizes 3, 3, 4).
"""
import torch


def subpart_bounds(num_channels: int, num_streams: int) -> list:
    """Return the M+1 boundaries ``[b_0=0, b_1, ..., b_M=C]`` of the sub-parts."""
    if num_streams < 1:
        raise ValueError(f'num_streams must be >= 1, got {num_streams}')
    if num_channels < num_streams:
        raise ValueError(
            f'cannot split {num_channels} channels into {num_streams} non-empty '
            'sub-parts: an exchanging layer needs at least one channel per stream')
    return [(m * num_channels) // num_streams for m in range(num_streams + 1)]


def subpart_mask(num_channels: int, num_streams: int,
                 device=None) -> torch.Tensor:
    """Bool mask of shape (M, C): ``mask[m, c]`` is True iff stream m owns channel c."""
    bounds = subpart_bounds(num_channels, num_streams)
    mask = torch.zeros(num_streams, num_channels, dtype=torch.bool, device=device)
    for m in range(num_streams):
        mask[m, bounds[m]:bounds[m + 1]] = True
    return mask
