"""ModalityLayerNorm (channel-last nn.LayerNorm path): each stream's output and every
gradient equal the stock layer run on that stream's slice; the exchange on top equals a
hand-written reference; the layer saves no more for backward than the stock layer on
the whole stack. (mmpretrain's LayerNorm2d, both data formats, is checked through the
ConvNeXt exactness tests of tests/test_models/test_backbones/: importing mmpretrain
here would cost seconds.)"""
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from cen_mm.core.modality_layer_norm import ModalityLayerNorm

M, N, C = 2, 3, 8
THETA = 2e-2


def make(exchange=False):
    torch.manual_seed(0)
    norm = ModalityLayerNorm(C, M, exchange=exchange,
                             threshold=THETA).double()
    with torch.no_grad():
        for layer in norm.norms:
            layer.weight.uniform_(0.5, 1.5)
            layer.bias.normal_()
    return norm


def per_stream_reference(norm, x, **kwargs):
    return torch.cat([layer(x_m, **kwargs)
                      for layer, x_m in zip(norm.norms, x.chunk(M))])


def grads(out, tensors, g):
    return torch.autograd.grad(out, tensors, g)


@pytest.mark.parametrize('case', ['tokens', 'non_contiguous', 'map'])
def test_each_stream_equals_its_stock_layer(case):
    norm = make()
    torch.manual_seed(1)
    kwargs = {}
    if case == 'tokens':  # (M*N, L, C)
        x = torch.randn(M * N, 5, C, dtype=torch.double)
    elif case == 'non_contiguous':  # as MiT's attention reduction: transposed
        x = torch.randn(M * N, C, 5, dtype=torch.double).transpose(1, 2)
    else:  # (M*N, H, W, C), as Swin's windows
        x = torch.randn(M * N, 4, 3, C, dtype=torch.double)
    x.requires_grad_(True)
    params = [p for layer in norm.norms for p in (layer.weight, layer.bias)]
    y = norm(x, **kwargs)
    ref = per_stream_reference(norm, x, **kwargs)
    assert y.shape == x.shape
    torch.testing.assert_close(y, ref, rtol=0, atol=1e-12)
    g = torch.randn_like(y)
    for a, b in zip(grads(y, [x, *params], g), grads(ref, [x, *params], g)):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-12)
    # the streams really have different parameters, so a shared layer would differ
    shared = F.layer_norm(x, (C, ), norm.norms[0].weight, norm.norms[0].bias,
                          norm.norms[0].eps)
    assert not torch.allclose(shared, y)


def test_exchange_equals_reference():
    norm = make(exchange=True)
    with torch.no_grad():  # stream 0 gives up two channels of its sub-part
        owned = norm.owner_mask[0].nonzero().squeeze(1)[:2]
        norm.norms[0].weight[owned] = THETA / 2
    torch.manual_seed(2)
    x = torch.randn(M * N, 5, C, dtype=torch.double, requires_grad=True)
    y = norm(x)
    plain = per_stream_reference(norm, x).view(M, N, 5, C)
    expected = plain.clone()
    expected[0][..., owned] = plain[1][..., owned]  # mean of the other (one) stream
    torch.testing.assert_close(y.view(M, N, 5, C), expected, rtol=0, atol=1e-12)
    assert norm.exchange_mask().sum() == 2


def test_saves_no_more_than_the_stock_layer():
    def saved_bytes(fn):
        total = []

        def pack(t):
            total.append(t.numel() * t.element_size()
                         if t.untyped_storage().data_ptr() != x.untyped_storage(
                         ).data_ptr() else 0)
            return t

        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            fn()
        return sum(total)

    norm = make()
    x = torch.randn(M * N, 64, C, dtype=torch.double, requires_grad=True)
    stock = nn.LayerNorm(C).double()
    # stock: mean, rstd (+ its weight/bias); CEN: the same per stream
    assert saved_bytes(lambda: norm(x)) <= saved_bytes(lambda: stock(x)) + \
        sum(p.numel() * 8 for p in norm.parameters())


def test_bad_input_is_named():
    norm = make()
    with pytest.raises(ValueError, match='stacked along the batch'):
        norm(torch.randn(3, 5, C, dtype=torch.double))
    with pytest.raises(ValueError, match='built for 8 channels'):
        norm(torch.randn(4, 5, C + 1, dtype=torch.double))
