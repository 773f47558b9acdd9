"""ModalityNorm's training path with frozen BN on the CPU (``_frozen_training_forward``:
γ/β rows by ``cat``, lean caches, the M = 2 exchange by ``index_select`` +
``index_copy_``) against the general path (rows ``batch_norm`` with per-row γ/β built
by stack/expand/reshape, then the per-stream indexed exchange), for M = 2, 3, 4, with
and without exchanged channels, N from 1 to 8, contiguous and channels-last inputs:
values and input gradients bit-identical; γ/β gradients bit-identical for N <= 4 and
equal up to the order of summing the N samples (last bits) for N >= 5."""
import pytest
import torch
import torch.nn as nn

from cen_mm.core import ModalityNorm
from cen_mm.core.exchange import channel_exchange

THETA = 2e-2
C = 12


def frozen_norm(M, exchange=True, seed=0, mode='all'):
    torch.manual_seed(seed)
    norm = ModalityNorm(C, M, exchange=exchange, threshold=THETA,
                        exchange_mode=mode)
    with torch.no_grad():
        for m, layer in enumerate(norm.norms):
            layer.weight.uniform_(0.5, 1.5)
            layer.bias.normal_()
            layer.running_mean.normal_()
            layer.running_var.uniform_(0.5, 2.0)
            if exchange and mode == 'all':
                # each stream gives up channels; channel 7 by every stream
                layer.weight[[m, m + 1, 7]] = THETA / 2
            elif exchange:  # two channels of each stream's own sub-part
                owned = norm.owner_mask[m].nonzero().squeeze(1)
                layer.weight[owned[:2]] = THETA / 2
    norm.train()
    for layer in norm.norms:
        layer.eval()  # norm_eval: frozen statistics, trainable γ/β
    return norm


def autograd_reference(norm, x):
    """The path before FrozenNormRows: autograd through the rows batch_norm and
    the per-stream indexed exchange."""
    y = norm._normalize(x)
    if norm.exchange:
        shape = (norm.num_streams, x.shape[0] // norm.num_streams, *x.shape[1:])
        y = channel_exchange(y, norm.exchange_mask(), streams_shape=shape,
                             sync_free=False)
    return y.reshape(x.shape)


def outputs_and_grads(norm, fn, x, upstream):
    xi = x.clone().requires_grad_()
    norm.zero_grad(set_to_none=True)
    out = fn(norm, xi)
    out.backward(upstream)
    return out.detach(), [xi.grad] + [p.grad for p in norm.parameters()]


@pytest.mark.parametrize('M,N', [(2, 1), (2, 2), (2, 5), (2, 8), (3, 3), (4, 2)])
@pytest.mark.parametrize('exchange', ['all', 'subpart', None])
@pytest.mark.parametrize('layout', ['contiguous', 'channels_last'])
def test_bit_identical_to_autograd_path(M, N, exchange, layout):
    norm = frozen_norm(M, exchange is not None, mode=exchange or 'all')
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(M * N, C, 5, 4, generator=gen)
    upstream = torch.randn(M * N, C, 5, 4, generator=gen)
    if layout == 'channels_last':
        x = x.contiguous(memory_format=torch.channels_last)
        upstream = upstream.contiguous(memory_format=torch.channels_last)
    out, grads = outputs_and_grads(norm, lambda n, t: n(t), x, upstream)
    ref_out, ref_grads = outputs_and_grads(norm, autograd_reference, x, upstream)
    assert torch.equal(out, ref_out)
    assert len(grads) == len(ref_grads) == 1 + 2 * M
    assert torch.equal(grads[0], ref_grads[0])  # the input's gradient
    for got, want in zip(grads[1:], ref_grads[1:]):  # γ_m, β_m
        assert got is not None
        if N <= 4:
            assert torch.equal(got, want)
        else:  # another summation order of the same N terms: last bits only
            torch.testing.assert_close(got, want, rtol=1e-6, atol=1e-6)
    if exchange:  # channels really exchanged: differs from the plain norm
        assert norm.exchange_mask().sum() >= M
        assert not torch.equal(out, norm._normalize(x).reshape(x.shape).detach())


def test_output_is_no_view_and_in_place_ops_after_it():
    """The path is taken (its last node is the reshape of the rows, not the general
    path's exchange), the output is a new tensor, not a view (a view would make
    autograd copy the gradient for the in-place ReLU after it), and the ReLU's
    gradient matches."""
    norm = frozen_norm(2)
    x = torch.randn(4, C, 3, 3, requires_grad=True)
    y = norm(x)
    assert type(y.grad_fn).__name__ == 'UnsafeViewBackward0'
    assert type(y.grad_fn.next_functions[0][0]).__name__ == 'IndexCopyBackward0'
    assert y._base is None
    z = nn.ReLU(inplace=True)(y)
    z.sum().backward()
    xr = x.detach().clone().requires_grad_()
    autograd_reference(norm, xr).relu().sum().backward()
    assert torch.equal(x.grad, xr.grad)


def test_frozen_parameters_and_input_without_grad():
    """γ/β frozen (requires_grad=False): only the input's gradient; input without
    grad: only γ/β's (a stem norm's input does not need one)."""
    norm = frozen_norm(2)
    for p in norm.parameters():
        p.requires_grad_(False)
    x = torch.randn(4, C, 3, 3, requires_grad=True)
    norm(x).square().sum().backward()
    xr = x.detach().clone().requires_grad_()
    autograd_reference(norm, xr).square().sum().backward()
    assert torch.equal(x.grad, xr.grad)

    norm = frozen_norm(2)
    x = torch.randn(4, C, 3, 3)
    norm(x).square().sum().backward()
    grads = [p.grad.clone() for p in norm.parameters()]
    norm.zero_grad(set_to_none=True)
    autograd_reference(norm, x).square().sum().backward()
    for got, p in zip(grads, norm.parameters()):
        assert torch.equal(got, p.grad)


def test_exchange_follows_mask_changes_between_steps():
    """The rows plan is kept while the mask is equal and rebuilt when an update moves
    a |γ| across θ: every step equals the autograd path of a fresh module."""
    norm = frozen_norm(2)
    optimizer = torch.optim.SGD(norm.parameters(), lr=1e-4)  # γ moves, mask stays
    x = torch.randn(4, C, 3, 3)
    plans = []
    for step in range(4):
        fresh = frozen_norm(2)
        fresh.load_state_dict(norm.state_dict())
        upstream = torch.randn(4, C, 3, 3)
        out, grads = outputs_and_grads(norm, lambda n, t: n(t), x, upstream)
        ref, ref_grads = outputs_and_grads(fresh, autograd_reference, x, upstream)
        assert torch.equal(out, ref)
        for got, want in zip(grads, ref_grads):
            assert torch.equal(got, want)
        plans.append(norm._cache['exchange_rows'][2])  # kept by the mask
        if step == 1:
            with torch.no_grad():
                norm.norms[1].weight[3:6] = THETA / 4  # three more channels replaced
        optimizer.step()
    assert plans[0] is plans[1]  # same mask: same index tensors
    assert plans[2] is not plans[1] and plans[2][0].numel() > plans[1][0].numel()
