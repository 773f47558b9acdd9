"""The inference exchange on the (M*N*C, L) rows view (``exchange_rows`` +
``exchange_rows_in_place``, used by ModalityNorm's inference plan) is bit-identical to
the per-stream indexed exchange (``_exchange_in_place``), including channels that
several streams replace (mode 'all') and M > 2 (mean of the other streams)."""
import pytest
import torch

from cen_mm.core import ModalityNorm
from cen_mm.core.exchange import (_exchange_in_place, exchange_indices,
                                  exchange_rows, exchange_rows_in_place)


def _random_mask(M, C, gen):
    mask = torch.rand(M, C, generator=gen) < 0.4
    mask[:, 0] = True   # every stream replaces channel 0 (overlap)
    mask[0, 1] = False  # ... and some channel is kept by stream 0
    return mask


@pytest.mark.parametrize('M', [2, 3, 4])
@pytest.mark.parametrize('spatial', [(), (1, 1), (3, 5), (2, 3, 2)])
@pytest.mark.parametrize('N', [1, 3])
def test_rows_exchange_bit_identical_to_per_stream(M, spatial, N):
    gen = torch.Generator().manual_seed(M * 100 + N * 10 + len(spatial))
    C = 7
    streams = torch.randn(M, N, C, *spatial, generator=gen)
    mask = _random_mask(M, C, gen)
    channels = exchange_indices(mask, streams.device)
    ref = streams.clone()
    _exchange_in_place(ref, channels)
    rows = streams.clone()
    out = exchange_rows_in_place(rows.view(M * N * C, -1),
                                 exchange_rows(channels, N, C), M)
    assert out.data_ptr() == rows.data_ptr()  # in place
    assert torch.equal(rows, ref)
    # the replaced pairs really changed, the others did not
    changed = (rows != streams).flatten(3 if spatial else 2).any(-1).any(1)
    assert torch.equal(changed, mask) if spatial else torch.equal(
        (rows != streams).any(1), mask)


def test_rows_layout_and_nothing_exchanged():
    # M=2, N=2, C=3: stream 0 replaces channel 2, stream 1 channels 0 and 2
    channels = [torch.tensor([2]), torch.tensor([0, 2])]
    dst, src = exchange_rows(channels, 2, 3)
    # rows (m*N + n)*C + c
    assert dst.tolist() == [2, 5, 6, 8, 9, 11]
    assert src.tolist() == [8, 11, 0, 2, 3, 5]
    assert exchange_rows(None, 2, 3) is None
    x = torch.randn(12, 4)
    assert exchange_rows_in_place(x, None, 2) is x


@pytest.mark.parametrize('M', [2, 3])
def test_modality_norm_inference_uses_rows_plan(M):
    C = 8
    norm = ModalityNorm(C, M, exchange=True, threshold=0.1,
                        exchange_mode='all').eval()
    with torch.no_grad():
        for m, layer in enumerate(norm.norms):
            layer.weight[m::3] = 0.01
            layer.running_var.uniform_(0.5, 1.5)
    x = torch.randn(M * 2, C, 4, 4)
    ref = norm(x.clone().requires_grad_()).detach()  # autograd path
    with torch.no_grad():
        out = norm(x)
        plan = norm._inference_plan(x)
    dst, src = plan[-1]
    assert dst.numel() == int(norm.exchange_mask().sum()) * 2
    assert src.numel() == (M - 1) * dst.numel()
    assert torch.equal(out, ref)
