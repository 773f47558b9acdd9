"""ModalityLayerNorm (channel-last nn.LayerNorm path): each stream's output and every
gradient equal the stock layer run on that stream's slice; the exchange on top equals a
hand-written reference; the layer saves no more for backward than the stock layer on
the whole stack. (mmpretrain's LayerNorm2d, both data formats, is checked through the
ConvNeXt exactness tests of tests/test_models/test_backbones/: importing mmpretrain
here would cost seconds.)"""
import warnings

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from cen_mm.core.exchange import channel_exchange
from cen_mm.core.modality_layer_norm import ModalityLayerNorm
from tests.fixtures.layer_norms import randomise_exchanging

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


# ---- the CPU fast path against the general path (channel_exchange), bit for bit ----

class ChannelFirstLayerNorm(nn.LayerNorm):
    """A LayerNorm over axis 1 with mmpretrain ``LayerNorm2d``'s call signature
    (``forward(x, data_format=...)``, default ``'channel_first'``) and arithmetic
    (permute, F.layer_norm, permute back, contiguous), without importing mmpretrain."""

    def forward(self, x, data_format='channel_first'):
        if data_format == 'channel_last':
            return super().forward(x)
        return super().forward(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2).contiguous()


def make_exchanging(num_streams, mode='subpart', channel_first=False, seed=0):
    """Float32 ModalityLayerNorm with 16 channels, about a third of every stream's
    candidate channels below θ; with ``mode='all'`` and M > 2, channel 0 is below θ
    in every stream (replaced in several streams at once)."""
    torch.manual_seed(seed)
    norm = ModalityLayerNorm(16, num_streams, exchange=True, threshold=THETA,
                             exchange_mode=mode)
    if channel_first:
        norm.norms = nn.ModuleList(ChannelFirstLayerNorm(16)
                                   for _ in range(num_streams))
    return randomise_exchanging(norm)


def general_path(norm, x, channel_first=False):
    """What ModalityLayerNorm computed before the CPU fast path: each stream's layer,
    concatenated, then channel_exchange with exchange_mask()."""
    M = norm.num_streams
    if channel_first:
        y = torch.cat([layer(x_m) for layer, x_m in zip(norm.norms, x.chunk(M))])
        shape = (M, x.shape[0] // M, *y.shape[1:])
    else:
        C = x.shape[-1]
        y = torch.cat([F.layer_norm(x_m, (C, ), layer.weight, layer.bias, layer.eps)
                       for layer, x_m in zip(norm.norms, x.chunk(M))])
        shape = (M, y.numel() // (M * C), C)
    return channel_exchange(y, norm.exchange_mask(), streams_shape=shape)


def make_input(case, num_streams):
    batch = 2 * num_streams
    if case == 'tokens':  # (M*N, L, C)
        return torch.randn(batch, 7, 16)
    if case == 'non_contiguous':  # MiT's attention reduction: transposed
        return torch.randn(batch, 16, 7).transpose(1, 2)
    if case == 'windows':  # (M*N, H, W, C), as Swin / ConvNeXt blocks
        return torch.randn(batch, 3, 2, 16)
    return torch.randn(batch, 16, 3, 2)  # channel_first (M*N, C, H, W)


def assert_same_values_and_grads(norm, x, channel_first=False):
    params = [p for layer in norm.norms for p in (layer.weight, layer.bias)]
    x = x.detach().requires_grad_(True)
    y = norm(x)
    ref = general_path(norm, x, channel_first)
    assert y.shape == x.shape and y.is_contiguous()
    assert torch.equal(y, ref)
    g = torch.randn_like(y)
    for a, b in zip(torch.autograd.grad(y, [x, *params], g),
                    torch.autograd.grad(ref, [x, *params], g)):
        assert torch.equal(a, b)
    return y


@pytest.mark.parametrize('num_streams', [2, 3])
@pytest.mark.parametrize('mode', ['subpart', 'all'])
@pytest.mark.parametrize('case', ['tokens', 'non_contiguous', 'windows',
                                  'channel_first'])
def test_fast_path_equals_general_path_bit_for_bit(num_streams, mode, case):
    channel_first = case == 'channel_first'
    norm = make_exchanging(num_streams, mode, channel_first)
    assert norm.exchange_mask().any()
    torch.manual_seed(1)
    assert_same_values_and_grads(norm, make_input(case, num_streams), channel_first)
    with torch.no_grad():  # inference: the same values
        x = make_input(case, num_streams)
        assert torch.equal(norm(x), general_path(norm, x, channel_first))


def test_exchanged_pairs_take_the_other_streams_mean():
    norm = make_exchanging(3)
    torch.manual_seed(1)
    x = make_input('tokens', 3)
    y = norm(x).view(3, 2, 7, 16)
    plain = torch.cat([layer(x_m) for layer, x_m in zip(norm.norms, x.chunk(3))]
                      ).view(3, 2, 7, 16)
    mask = norm.exchange_mask()
    for m in range(3):
        others = [k for k in range(3) if k != m]
        expected = torch.where(mask[m], (plain[others[0]] + plain[others[1]]) / 2,
                               plain[m])
        torch.testing.assert_close(y[m], expected, rtol=0, atol=1e-6)


def sgd_step_to(norm, stream, channel, value, lr=1.0):
    """One real SGD step that moves weight[channel] of ``stream`` to ``value``
    (loss = (value - w_old) * -w, gradient w_old - value)."""
    opt = torch.optim.SGD(norm.parameters(), lr=lr)
    opt.zero_grad()
    w = norm.norms[stream].weight
    (-(value - w[channel].item()) * w[channel]).backward()
    opt.step()


def test_cached_indices_follow_an_optimizer_step_across_theta():
    norm = make_exchanging(2)
    torch.manual_seed(1)
    x = make_input('tokens', 2)
    owned = norm.owner_mask[0].nonzero().squeeze(1)
    kept = [c for c in owned.tolist() if not norm.exchange_mask()[0, c]]
    dropped = [c for c in owned.tolist() if norm.exchange_mask()[0, c]]
    channel_in, channel_out = kept[0], dropped[0]
    assert_same_values_and_grads(norm, x)
    channels = norm._exchange_channels(x.device)
    # γ changes, the mask does not: the indices are reused (same objects)
    sgd_step_to(norm, 0, kept[1], 1.25)
    assert norm._exchange_channels(x.device) is channels
    before = norm.exchange_mask().clone()
    # a step pushes a kept channel below θ: it is exchanged from the next call on
    sgd_step_to(norm, 0, channel_in, THETA / 2)
    assert norm.exchange_mask()[0, channel_in] and not before[0, channel_in]
    y = assert_same_values_and_grads(norm, x)
    assert norm._exchange_channels(x.device) is not channels
    assert torch.equal(y.view(2, 2, 7, 16)[0, ..., channel_in],  # stream 1's value
                       norm.norms[1](x[2:])[..., channel_in])
    # and one pushed back above θ is no longer exchanged
    sgd_step_to(norm, 0, channel_out, -1.0)
    assert not norm.exchange_mask()[0, channel_out]
    y = assert_same_values_and_grads(norm, x)
    assert torch.equal(y.view(2, 2, 7, 16)[0, ..., channel_out],  # its own again
                       norm.norms[0](x[:2])[..., channel_out])


def test_cache_follows_threshold_and_inference_mode():
    norm = make_exchanging(2)
    torch.manual_seed(1)
    x = make_input('tokens', 2)
    with torch.inference_mode():
        inference = norm(x)
    assert torch.equal(inference, general_path(norm, x))
    assert_same_values_and_grads(norm, x)  # indices rebuilt outside inference mode
    norm.threshold = 0.0  # nothing below θ any more: plain per-stream norms
    y = assert_same_values_and_grads(norm, x)
    assert norm._exchange_channels(x.device) is None
    assert torch.equal(y, per_stream_reference(norm, x))


def test_layer_signature_read_once_per_class(monkeypatch):
    from cen_mm.core import modality_layer_norm as module
    norm = make_exchanging(2, channel_first=True)
    x = make_input('channel_first', 2)
    norm(x)  # the class's signature is known from here on

    def fail(*args, **kwargs):
        raise AssertionError('inspect.signature called again')

    monkeypatch.setattr(module.inspect, 'signature', fail)
    assert_same_values_and_grads(norm, x, channel_first=True)


@pytest.mark.e2e
@pytest.mark.parametrize('channel_first', [False, True])
def test_compiles_as_one_graph_without_dynamo_warnings(channel_first):
    """``torch.compile`` traces the layer in one graph, with the eager values, and
    warns about nothing (dynamo used to warn on every compile that it ignores the
    ``functools.lru_cache`` of the layer-class signature lookup)."""
    norm = make_exchanging(2, channel_first=channel_first)
    x = make_input('channel_first' if channel_first else 'tokens', 2)
    with torch.no_grad():
        eager = norm(x)
    torch._dynamo.reset()
    # dynamo warns once per message and process: forget earlier tests' warnings
    getattr(torch._dynamo.utils.warn_once, 'cache_clear', lambda: None)()
    with warnings.catch_warnings(record=True) as caught, torch.no_grad():
        warnings.simplefilter('always')
        compiled = torch.compile(norm, fullgraph=True, backend='eager')(x)
    torch._dynamo.reset()
    assert [str(w.message) for w in caught] == []
    torch.testing.assert_close(compiled, eager, rtol=0, atol=1e-6)
