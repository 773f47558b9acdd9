"""The sync-free exchange (masked blend on the device) equals the indexed one bit for bit,
and makes the exchange and the private norms traceable by torch.compile without graph
breaks (the indexed path reads the mask on the host: one device sync per layer, and a
graph break, on accelerators)."""
import pytest
import torch
from mmengine.registry import MODELS

import cen_mm  # noqa: F401
import cen_mm.core.exchange as exchange_module
from cen_mm.core.exchange import channel_exchange, exchange_mask
from cen_mm.core.modality_norm import ModalityNorm, iter_exchanging_norms
from cen_mm.core.subparts import subpart_mask


def _run(M, C, mode, sync_free, seed=0):
    g = torch.Generator().manual_seed(seed)
    base = torch.randn(M * 3, C, 4, 5, generator=g, requires_grad=True)
    gamma = torch.rand(M, C, generator=g) * 2 - 1
    owner = subpart_mask(C, M) if mode == 'subpart' else None
    mask = exchange_mask(gamma, 0.4, owner)
    assert 0 < int(mask.sum()) < M * C  # some, not all, channels are replaced
    y = channel_exchange(base * 1.5, mask, streams_shape=(M, 3, C, 4, 5),
                         sync_free=sync_free)
    weights = torch.randn(y.shape, generator=g)
    (y * weights).sum().backward()
    return y.detach(), base.grad


@pytest.mark.parametrize('M', [2, 3, 4])
@pytest.mark.parametrize('mode', ['subpart', 'all'])
def test_sync_free_exchange_is_bit_identical(M, mode):
    y_index, grad_index = _run(M, 12, mode, sync_free=False)
    y_blend, grad_blend = _run(M, 12, mode, sync_free=True)
    assert torch.equal(y_index, y_blend)
    assert torch.equal(grad_index, grad_blend)


def test_default_path_is_sync_free_on_accelerators_and_when_compiling(monkeypatch):
    used = []
    for name in ('_ChannelExchange', '_MaskedChannelExchange'):
        cls = getattr(exchange_module, name)
        monkeypatch.setattr(cls, 'apply', staticmethod(
            lambda *a, _n=name, _f=cls.apply: used.append(_n) or _f(*a)))
    # autograd records the exchange (without it the indexed path runs in place)
    x = torch.randn(4, 6, 2, 2, requires_grad=True)
    mask = torch.zeros(2, 6, dtype=torch.bool)
    mask[0, 1] = True
    channel_exchange(x.clone(), mask, streams_shape=(2, 2, 6, 2, 2))
    assert used == ['_ChannelExchange']  # CPU, eager: index only the replaced channels
    monkeypatch.setattr(exchange_module, '_is_compiling', lambda: True)
    channel_exchange(x.clone(), mask, streams_shape=(2, 2, 6, 2, 2))
    assert used == ['_ChannelExchange', '_MaskedChannelExchange']
    monkeypatch.setattr(exchange_module, '_is_compiling', lambda: False)
    channel_exchange(torch.randn(4, 6, 2, 2, device='meta'), mask,
                     streams_shape=(2, 2, 6, 2, 2))
    assert used[-1] == '_MaskedChannelExchange'  # any non-CPU device


def _exchanging_norm(M=2, C=12):
    torch.manual_seed(0)
    norm = ModalityNorm(C, M, dict(type='BN'), exchange=True, threshold=0.4)
    with torch.no_grad():
        for layer in norm.norms:
            layer.weight.uniform_(-1, 1)
            layer.bias.uniform_(-0.5, 0.5)
    assert 0 < int(norm.exchange_mask().sum()) < M * C
    return norm


@pytest.mark.e2e
@pytest.mark.parametrize('train', [True, False])
def test_modality_norm_compiles_as_one_graph_with_the_same_values_and_grads(train):
    norm = _exchanging_norm().train(train)
    x = torch.randn(6, 12, 5, 5)

    def step(module):
        inp = x.clone().requires_grad_()
        out = module(inp)
        (out * torch.linspace(-1, 1, out.numel()).view_as(out)).sum().backward()
        grads = [inp.grad] + [p.grad.clone() for p in norm.parameters()]
        norm.zero_grad()
        return out.detach(), grads

    eager_out, eager_grads = step(norm)
    torch._dynamo.reset()
    # fullgraph=True raises on any graph break; aot_eager also traces the backward
    compiled = torch.compile(norm, fullgraph=True, backend='aot_eager')
    out, grads = step(compiled)
    torch._dynamo.reset()
    torch.testing.assert_close(out, eager_out, rtol=0, atol=1e-6)
    for got, want in zip(grads, eager_grads):
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.e2e
def test_cen_resnet_with_exchanged_channels_has_no_graph_break():
    torch.manual_seed(0)
    backbone = MODELS.build(dict(type='CENResNet', depth=18, in_channels=(3, 1),
                                 base_channels=8, stem_channels=8,
                                 exchange_threshold=0.4))
    exchanged = 0
    for _, norm in iter_exchanging_norms(backbone):
        with torch.no_grad():
            for layer in norm.norms:
                layer.weight.uniform_(-1, 1)
        exchanged += int(norm.exchange_mask().sum())
    assert exchanged > 0
    torch._dynamo.reset()
    explanation = torch._dynamo.explain(backbone)(torch.randn(2, 4, 32, 32))
    torch._dynamo.reset()
    assert explanation.graph_break_count == 0, [
        r.reason for r in explanation.break_reasons]
    assert explanation.graph_count == 1


@pytest.mark.e2e
@pytest.mark.parametrize('train', [True, False])
def test_modality_norm_compiles_as_one_graph_without_autograd(train):
    """Inference (no_grad): dynamo inlines an autograd.Function's forward there and
    cannot trace its mark_dirty, so the exchange must not go through the Function
    (before: one graph break per exchanging layer, 35 in a CEN-ResNet-18)."""
    norm = _exchanging_norm(M=3).train(train)
    x = torch.randn(6, 12, 5, 5)
    with torch.no_grad():
        eager = norm(x.clone())
        torch._dynamo.reset()
        compiled = torch.compile(norm, fullgraph=True, backend='eager')(x.clone())
        torch._dynamo.reset()
    torch.testing.assert_close(compiled, eager, rtol=0, atol=1e-6)


@pytest.mark.e2e
def test_private_stream_head_norm_compiles_as_one_graph():
    from cen_mm.seg.models.utils.private_stream_norm import PrivateStreamNorm
    norm = PrivateStreamNorm(8, 2)
    x = torch.randn(4, 8, 3, 3)
    for train in (True, False):
        norm.train(train)
        with torch.no_grad():
            eager = norm(x)
            torch._dynamo.reset()
            compiled = torch.compile(norm, fullgraph=True, backend='eager')(x)
            torch._dynamo.reset()
        torch.testing.assert_close(compiled, eager, rtol=0, atol=1e-6)
