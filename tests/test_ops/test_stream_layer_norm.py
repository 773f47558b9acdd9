"""The fused stream LayerNorm op (cen_mm/ops/stream_layer_norm.py, csrc/): values and
every gradient bit-identical to ModalityLayerNorm's eager path (per-stream F.layer_norm,
concatenation, exchange_by_indices), for M = 2, 3, 4, both exchange modes, inputs
spanning several chunks, one and two threads; it is the path ModalityLayerNorm takes
for float32 CPU tensors; where it cannot be built, a warning and the eager values."""
import os
import warnings

import pytest
import torch
import torch.nn.functional as F

from cen_mm.ops import stream_layer_norm as fused_ops
from tests.fixtures.layer_norms import THETA
from tests.fixtures.layer_norms import make_exchanging as make  # (M, ...)

needs_op = pytest.mark.skipif(os.environ.get('CEN_MM_EXT') == '0',
                              reason='CEN_MM_EXT=0 switches the op off')


def run(norm, x, g, fused):
    """Output and gradients (x, every weight and bias) with the fused op on or off."""
    norm.fused = fused
    params = [p for layer in norm.norms for p in (layer.weight, layer.bias)]
    x = x.detach().requires_grad_(True)
    y = norm(x)
    return [y.detach(), *torch.autograd.grad(y, [x, *params], g)]


@needs_op
def test_op_builds_and_passes_its_self_check():
    assert fused_ops.available(), fused_ops._LOADED['why']


@needs_op
@pytest.mark.parametrize('num_streams', [2, 3, 4])
@pytest.mark.parametrize('mode', ['subpart', 'all'])
@pytest.mark.parametrize('threads', [1, 2])
def test_fused_equals_eager_bit_for_bit(num_streams, mode, threads):
    norm = make(num_streams, mode=mode)
    assert norm.exchange_mask().any()
    # 16 channels: a chunk is 2**18 / (M * 16) rows; 2 samples x 4099 tokens per
    # stream span two chunks for M = 4 and end inside one for every M
    torch.manual_seed(1)
    x = torch.randn(2 * num_streams, 4099, 16)
    g = torch.randn_like(x)
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        fused, eager = run(norm, x, g, True), run(norm, x, g, False)
    finally:
        torch.set_num_threads(previous)
    assert len(fused) == 2 + 2 * num_streams
    for a, b in zip(fused, eager):
        assert a.shape == b.shape and torch.equal(a, b)
    # the exchange really happened: an exchanged pair holds the others' mean
    m, c = norm.exchange_mask().nonzero()[0].tolist()
    plain = torch.cat([layer(x_k) for layer, x_k in
                       zip(norm.norms, x.chunk(num_streams))]).view(num_streams, -1, 16)
    others = [k for k in range(num_streams) if k != m]
    expected = torch.stack([plain[k, :, c] for k in others]).mean(0)
    torch.testing.assert_close(fused[0].view(num_streams, -1, 16)[m, :, c], expected,
                               rtol=0, atol=1e-5)


@needs_op
@pytest.mark.parametrize('case', ['non_contiguous', 'windows', 'no_exchange'])
def test_fused_equals_eager_for_layouts(case):
    norm = make(2)
    torch.manual_seed(1)
    if case == 'non_contiguous':  # MiT's attention reduction: transposed tokens
        x = torch.randn(4, 16, 9).transpose(1, 2)
    else:  # Swin / ConvNeXt windows (M*N, H, W, C)
        x = torch.randn(4, 5, 3, 16)
    if case == 'no_exchange':  # the op serves it from MIN_NUMEL_WITHOUT_EXCHANGE on
        norm.threshold = 0.0
        assert not norm.exchange_mask().any()
        x = torch.randn(4, fused_ops.MIN_NUMEL_WITHOUT_EXCHANGE // 64 + 3, 16)
    g = torch.randn(x.shape).transpose(1, 2).contiguous().transpose(1, 2) \
        if case == 'non_contiguous' else torch.randn(x.shape)  # a strided gradient
    for a, b in zip(run(norm, x, g, True), run(norm, x, g, False)):
        assert torch.equal(a, b)


@needs_op
def test_inference_and_shared_gradient():
    norm = make(3)
    torch.manual_seed(1)
    x = torch.randn(6, 11, 16)
    with torch.no_grad():
        norm.fused = True
        fused = norm(x)
        norm.fused = False
        assert torch.equal(fused, norm(x))
    # a residual passes the same gradient tensor on: the op must not change it
    norm.fused = True
    x.requires_grad_(True)
    y = norm(x)
    g = torch.randn_like(y)
    kept = g.clone()
    torch.autograd.grad(y, x, g)
    assert torch.equal(g, kept)


@needs_op
def test_modality_layer_norm_takes_the_op_only_where_it_applies(monkeypatch):
    calls = []
    original = fused_ops.stream_layer_norm

    def counting(*args, **kwargs):
        calls.append(args[0].dtype)
        return original(*args, **kwargs)

    monkeypatch.setattr(fused_ops, 'stream_layer_norm', counting)
    norm = make(2)
    x = torch.randn(4, 5, 16)
    norm(x)
    assert calls == [torch.float32]
    norm.threshold = 0.0  # no pair exchanged: the op only for large inputs
    norm(x)
    assert calls == [torch.float32]
    big = torch.randn(4, fused_ops.MIN_NUMEL_WITHOUT_EXCHANGE // 64, 16)
    norm(big)
    assert calls == [torch.float32] * 2
    norm.threshold = THETA
    norm.double()(x.double())  # float64: the eager path
    norm.float()
    with torch.autocast('cpu', dtype=torch.bfloat16):
        norm(x)  # CPU autocast: the eager path
    norm.fused = False
    norm(x)
    assert calls == [torch.float32] * 2


@needs_op
def test_exchanged_pairs_kept_while_the_mask_is_unchanged():
    norm = make(2)
    pairs = norm._exchanged_pairs()
    mask = norm.exchange_mask()
    assert torch.equal(torch.stack(pairs, 1), mask.nonzero())
    with torch.no_grad():  # γ changes, the pattern below θ does not
        norm.norms[0].weight.mul_(1.01)
    assert norm._exchanged_pairs() is pairs
    kept = [c for c in norm.owner_mask[1].nonzero().squeeze(1).tolist()
            if not mask[1, c]]
    with torch.no_grad():  # a channel crosses θ: rebuilt
        norm.norms[1].weight[kept[0]] = THETA / 8
    again = norm._exchanged_pairs()
    assert again is not pairs
    assert torch.equal(torch.stack(again, 1), norm.exchange_mask().nonzero())


@needs_op
def test_op_names_bad_input():
    weights = [torch.ones(8), torch.ones(8)]
    x = torch.randn(4, 3, 8)
    pairs = torch.tensor([0, 1]), torch.tensor([3, 2])
    with pytest.raises(RuntimeError, match='float32'):
        torch.ops.cen_mm.stream_layer_norm(x.double(), weights, weights, 1e-5, *pairs)
    with pytest.raises(RuntimeError, match='does not hold 2 streams of 8 channels'):
        torch.ops.cen_mm.stream_layer_norm(torch.randn(3, 3, 8), weights, weights,
                                           1e-5, *pairs)
    with pytest.raises(RuntimeError, match='outside 2 streams x 8 channels'):
        torch.ops.cen_mm.stream_layer_norm(x, weights, weights, 1e-5,
                                           torch.tensor([0, 2]), torch.tensor([3, 2]))
    with pytest.raises(RuntimeError, match='sorted stream-major'):
        torch.ops.cen_mm.stream_layer_norm(x, weights, weights, 1e-5,
                                           torch.tensor([1, 0]), torch.tensor([3, 2]))


def test_build_failure_warns_and_keeps_the_eager_values(monkeypatch):
    norm = make(2)
    x = torch.randn(4, 5, 16)
    norm.fused = False
    eager = norm(x)

    def fail():
        raise OSError('no compiler here')

    monkeypatch.setattr(fused_ops, '_LOADED', {'ok': None, 'why': ''})
    monkeypatch.setattr(fused_ops, '_build_and_load', fail)
    monkeypatch.setattr(fused_ops, '_self_check', fail)  # also if already loaded
    monkeypatch.delenv('CEN_MM_EXT', raising=False)
    norm.fused = True
    with pytest.warns(UserWarning, match='not available .OSError: no compiler here.'):
        y = norm(x)
    assert torch.equal(y, eager)
    with warnings.catch_warnings():  # once per process
        warnings.simplefilter('error')
        assert torch.equal(norm(x), eager)


def test_switched_off_by_environment(monkeypatch):
    monkeypatch.setattr(fused_ops, '_LOADED', {'ok': None, 'why': ''})
    monkeypatch.setenv('CEN_MM_EXT', '0')
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        assert not fused_ops.available()
    assert fused_ops._LOADED['why'] == 'CEN_MM_EXT=0'


def test_reference_layer_is_plain_layer_norm():
    """The eager path the op is compared with is the stock arithmetic per stream."""
    norm = make(2)
    norm.fused = False
    norm.threshold = 0.0
    x = torch.randn(4, 5, 16)
    ref = torch.cat([F.layer_norm(x_m, (16, ), layer.weight, layer.bias, layer.eps)
                     for layer, x_m in zip(norm.norms, x.chunk(2))])
    assert torch.equal(norm(x), ref)
