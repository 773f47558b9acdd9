"""The exchange on the (M*N*C, L) rows view (``exchange_rows`` +
``exchange_rows_in_place`` in ModalityNorm's inference plan; ``exchange_by_rows`` /
``_RowsChannelExchange`` in its CPU training path) is bit-identical to the per-stream
indexed exchange (``_exchange_in_place`` / ``_ChannelExchange``), values and
gradients, including channels that several streams replace (mode 'all') and M > 2
(mean of the other streams)."""
import pytest
import torch

from cen_mm.core import ModalityNorm
from cen_mm.core import exchange as exchange_module
from cen_mm.core.exchange import (_exchange_in_place, exchange_by_indices,
                                  exchange_by_rows, exchange_indices, exchange_rows,
                                  exchange_rows_in_place)


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
    dst, src, total = exchange_rows(channels, 2, 3)
    assert total == 12
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
    dst, src, total = plan[-1]
    assert total == M * 2 * C
    assert dst.numel() == int(norm.exchange_mask().sum()) * 2
    assert src.numel() == (M - 1) * dst.numel()
    assert torch.equal(out, ref)


def _exchange_with_grad(fn, base, grad_weights):
    x = base.clone().requires_grad_()
    y = fn(x * 1.0)  # a non-leaf the exchange may change in place
    (y * grad_weights).sum().backward()
    return y.detach(), x.grad


@pytest.mark.parametrize('M', [2, 3, 4])
@pytest.mark.parametrize('N', [1, 2])
def test_rows_exchange_autograd_bit_identical(M, N):
    gen = torch.Generator().manual_seed(7 * M + N)
    C, shape = 9, (M, N, 9, 3, 2)
    base = torch.randn(M * N, C, 3, 2, generator=gen)
    grad_weights = torch.randn(base.shape, generator=gen)
    mask = _random_mask(M, C, gen)
    channels = exchange_indices(mask, base.device)
    plan = exchange_rows(channels, N, C)
    y_ref, g_ref = _exchange_with_grad(
        lambda t: exchange_by_indices(t, channels, shape), base, grad_weights)
    y_rows, g_rows = _exchange_with_grad(
        lambda t: exchange_by_rows(t, plan, M), base, grad_weights)
    assert torch.equal(y_rows, y_ref)
    assert torch.equal(g_rows, g_ref)
    # a replaced pair passes no gradient to its own input
    assert not (mask.view(M, 1, C, 1, 1).expand(shape) & (g_ref.view(shape) != 0)
                & (grad_weights.view(shape) != 0) & ~_receives(mask, shape)).any()


def _receives(mask, shape):
    """(M, N, C, *S) bool: pairs that replace some other stream's value."""
    M = shape[0]
    gives = torch.stack([mask[[k for k in range(M) if k != m]].any(0)
                         for m in range(M)])
    return gives.view(M, 1, shape[2], 1, 1).expand(shape)


@pytest.mark.parametrize('M', [2, 3])
def test_modality_norm_training_uses_rows_exchange(M, monkeypatch):
    used = []
    original = exchange_module._RowsChannelExchange.apply
    monkeypatch.setattr(exchange_module._RowsChannelExchange, 'apply',
                        staticmethod(lambda *a: used.append(1) or original(*a)))
    C = 8
    norm = ModalityNorm(C, M, exchange=True, threshold=0.1, exchange_mode='all')
    with torch.no_grad():
        for m, layer in enumerate(norm.norms):
            layer.weight[m::3] = 0.01
    x = torch.randn(M * 2, C, 4, 4, requires_grad=True)
    out = norm(x)
    out.sum().backward()
    assert used == [1] and x.grad is not None
