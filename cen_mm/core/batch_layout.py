"""How M streams of N samples share the batch dimension of one stacked tensor.

* ``'stream_major'`` (the package's interface everywhere): (M*N, ...), rows
  ``[m*N, (m+1)*N)`` are stream m;
* ``'sample_major'`` (inside :class:`~cen_mm.models.backbones.CENResNet` with frozen
  BN, see there): (N*M, ...), row ``n*M + m`` is stream m's sample n. Viewed as
  (N, M*C, *S), every (stream, channel) pair is one channel, so a frozen BN of all
  streams is one ``batch_norm`` over M*C channels with each stream's own γ/β, and
  its γ/β gradients come out summed over the N samples by the kernel.

Shared convolutions do not care which row is which; only private norms, the exchange
and whatever splits the streams do.
"""
import torch

BATCH_LAYOUTS = ('stream_major', 'sample_major')


def _swap_first_two(x: torch.Tensor, first: int) -> torch.Tensor:
    """(A*B, ...) with A = ``first`` outer -> (B*A, ...) with B outer (a copy)."""
    inner = x.shape[0] // first
    return x.view(first, inner, *x.shape[1:]).transpose(0, 1).reshape(x.shape)


def to_stream_major(x: torch.Tensor, num_streams: int) -> torch.Tensor:
    """(N*M, ...) sample-major -> (M*N, ...) stream-major (a copy; ``x`` itself for
    M = 1)."""
    if num_streams == 1:
        return x
    return _swap_first_two(x, x.shape[0] // num_streams)


def to_sample_major(x: torch.Tensor, num_streams: int) -> torch.Tensor:
    """(M*N, ...) stream-major -> (N*M, ...) sample-major (a copy; ``x`` itself for
    M = 1)."""
    if num_streams == 1:
        return x
    return _swap_first_two(x, num_streams)
