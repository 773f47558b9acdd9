"""The sample-major stack (``cen_mm.core.batch_layout``) and ``ModalityNorm`` on it.

A sample-major norm fed the sample-major order of a stream-major norm's input gives
that norm's output in sample-major order: values and input gradients bit-identical,
γ/β gradients equal up to the order of summing the N samples. Frozen BN takes the
one-call path over (N, M*C, L) (``_sample_major_forward``); every other norm converts
to stream-major and back.
"""
import pytest
import torch

from cen_mm.core import ModalityNorm
from cen_mm.core.batch_layout import to_sample_major, to_stream_major
from cen_mm.core.exchange import exchange_indices, exchange_rows

THETA = 2e-2
C = 12


def test_layout_round_trip_and_row_order():
    M, N = 3, 2
    x = torch.arange(M * N * 2.).view(M * N, 2)  # row m*N + n holds 2*(m*N + n), +1
    s = to_sample_major(x, M)
    for m in range(M):
        for n in range(N):
            assert torch.equal(s[n * M + m], x[m * N + n])
    assert torch.equal(to_stream_major(s, M), x)
    assert to_sample_major(x, 1) is x and to_stream_major(x, 1) is x


@pytest.mark.parametrize('M,N', [(2, 1), (2, 3), (3, 2), (4, 2)])
def test_sample_major_exchange_rows(M, N):
    """Row ``(n*M + m)*C + c``, the same (dst, src) pairing as stream-major."""
    gen = torch.Generator().manual_seed(M * 10 + N)
    mask = torch.rand(M, C, generator=gen) < 0.3
    mask[0, 0] = True
    channels = exchange_indices(mask, torch.device('cpu'))
    dst_s, src_s, total_s = exchange_rows(channels, N, C)
    dst, src, total = exchange_rows(channels, N, C, sample_major=True)
    assert total == total_s == M * N * C
    # translate stream-major rows into sample-major ones: must give the same plan
    m, rest = dst_s // (N * C), dst_s % (N * C)
    n, c = rest // C, rest % C
    assert torch.equal(dst, (n * M + m) * C + c)
    m, rest = src_s // (N * C), src_s % (N * C)
    n, c = rest // C, rest % C
    assert torch.equal(src, (n * M + m) * C + c)


def make_norm(M, exchange, sample_major, seed=0, **kwargs):
    torch.manual_seed(seed)
    norm = ModalityNorm(C, M, exchange=exchange, threshold=THETA,
                        sample_major=sample_major, **kwargs)
    with torch.no_grad():
        for m, layer in enumerate(norm.norms):
            layer.weight.uniform_(0.5, 1.5)
            layer.bias.normal_()
            if getattr(layer, 'running_mean', None) is not None:
                layer.running_mean.normal_()
                layer.running_var.uniform_(0.5, 2.0)
            if exchange:  # two channels of each stream's own sub-part
                owned = norm.owner_mask[m].nonzero().squeeze(1)
                layer.weight[owned[:2]] = THETA / 2
    return norm


def frozen(norm):
    norm.train()
    for layer in norm.norms:
        layer.eval()  # norm_eval: frozen statistics, trainable γ/β
    return norm


def run(norm, x, upstream):
    xi = x.clone().requires_grad_()
    norm.zero_grad(set_to_none=True)
    out = norm(xi)
    out.backward(upstream)
    return out.detach(), xi.grad, [p.grad for p in norm.parameters()]


def compare(stream, sample, x, upstream, M, grads_exact=False):
    """``sample`` on the sample-major order of ``x`` against ``stream`` on ``x``."""
    out, x_grad, p_grads = run(stream, x, upstream)
    out_s, x_grad_s, p_grads_s = run(sample, to_sample_major(x, M),
                                     to_sample_major(upstream, M))
    assert torch.equal(to_stream_major(out_s, M), out)
    assert torch.equal(to_stream_major(x_grad_s, M), x_grad)
    for got, want in zip(p_grads_s, p_grads):
        if grads_exact:
            assert torch.equal(got, want)
        else:  # summed over the N samples in another order: last bits only
            torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize('M,N', [(2, 1), (2, 2), (2, 5), (3, 2), (3, 3), (4, 2)])
@pytest.mark.parametrize('exchange', [True, False])
@pytest.mark.parametrize('memory', ['contiguous', 'channels_last'])
def test_frozen_bn_training_matches_stream_major(M, N, exchange, memory):
    stream = frozen(make_norm(M, exchange, False))
    sample = frozen(make_norm(M, exchange, True))
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(M * N, C, 5, 4, generator=gen)
    upstream = torch.randn(M * N, C, 5, 4, generator=gen)
    if memory == 'channels_last':
        x = x.contiguous(memory_format=torch.channels_last)
    # the one-call path is taken (a None would mean the conversion fallback)
    assert sample._sample_major_forward(to_sample_major(x, M)) is not None
    compare(stream, sample, x, upstream, M)
    if exchange:  # the test can fail: the exchange changed the output
        no_exchange = frozen(make_norm(M, False, False))
        assert not torch.equal(no_exchange(x), stream(x))


@pytest.mark.parametrize('M', [2, 3])
@pytest.mark.parametrize('inference_mode', [False, True])
def test_frozen_bn_inference_matches_stream_major(M, inference_mode):
    stream = make_norm(M, True, False).eval()
    sample = make_norm(M, True, True).eval()
    x = torch.randn(M * 2, C, 3, 5, generator=torch.Generator().manual_seed(2))
    ctx = torch.inference_mode if inference_mode else torch.no_grad
    with ctx():
        want = stream(x)
        for _ in range(2):  # the second call reuses the kept plan
            got = sample(to_sample_major(x, M))
            assert torch.equal(to_stream_major(got, M), want)


def test_kept_plans_follow_the_exchange_pattern():
    """γ crossing θ between calls (training and inference) changes the output."""
    M, N = 3, 2
    stream = frozen(make_norm(M, True, False))
    sample = frozen(make_norm(M, True, True))
    x = torch.randn(M * N, C, 4, 4, generator=torch.Generator().manual_seed(3))
    upstream = torch.randn_like(x)
    for step in range(3):
        compare(stream, sample, x, upstream, M)
        with torch.no_grad():
            stream.eval(), sample.eval()
            assert torch.equal(to_stream_major(sample(to_sample_major(x, M)), M),
                               stream(x))
        frozen(stream), frozen(sample)
        with torch.no_grad():  # one more channel of stream `step` below θ
            for norm in (stream, sample):
                owned = norm.owner_mask[step].nonzero().squeeze(1)
                norm.norms[step].weight[owned[2]] = THETA / 4
    assert stream.exchange_mask().sum() == 2 * M + 3


@pytest.mark.parametrize('case', ['bn_batch_stats', 'in', 'gn', 'shared', 'policy',
                                  'replacement'])
def test_other_norms_convert_and_match(case):
    """Everything but frozen BN converts to stream-major and back: same results."""
    M, N = 2, 3
    kwargs = dict(bn_batch_stats=dict(),
                  **{'in': dict(norm_cfg=dict(type='IN', affine=True))},
                  gn=dict(norm_cfg=dict(type='GN', num_groups=3)),
                  shared=dict(shared=True),
                  policy=dict(exchange_policy=dict(type='fixed_ratio', ratio=0.3)),
                  replacement=dict(exchange_replacement=dict(type='zero')))[case]
    exchange = case not in ('shared', )
    stream = make_norm(M, exchange, False, **kwargs).train()
    sample = make_norm(M, exchange, True, **kwargs).train()
    x = torch.randn(M * N, C, 4, 3, generator=torch.Generator().manual_seed(4))
    upstream = torch.randn_like(x)
    assert sample._sample_major_forward(to_sample_major(x, M)) is None
    compare(stream, sample, x, upstream, M, grads_exact=True)
    if case == 'bn_batch_stats':  # the statistics each stream's layer collected
        for a, b in zip(stream.norms, sample.norms):
            assert torch.equal(a.running_mean, b.running_mean)


@pytest.mark.parametrize('M', [2, 3])
def test_sync_free_blend_matches_stream_major(M, monkeypatch):
    """The blend (accelerators without a host pattern, torch.compile) forced on the
    CPU: same values; input gradients bit-identical for M = 2, equal up to the order
    of summing for M > 2."""
    import cen_mm.core.modality_norm as modality_norm
    stream = frozen(make_norm(M, True, False))
    sample = frozen(make_norm(M, True, True))
    x = torch.randn(M * 2, C, 4, 3, generator=torch.Generator().manual_seed(5))
    upstream = torch.randn_like(x)
    out, x_grad, p_grads = run(stream, x, upstream)
    blends = []
    monkeypatch.setattr(modality_norm, '_is_compiling', lambda: True)
    original = ModalityNorm._sample_major_blend

    def counted(self, *args):
        blends.append(1)
        return original(self, *args)

    monkeypatch.setattr(ModalityNorm, '_sample_major_blend', counted)
    out_s, x_grad_s, p_grads_s = run(sample, to_sample_major(x, M),
                                     to_sample_major(upstream, M))
    assert blends == [1]
    assert torch.equal(to_stream_major(out_s, M), out)
    if M == 2:
        assert torch.equal(to_stream_major(x_grad_s, M), x_grad)
    torch.testing.assert_close(to_stream_major(x_grad_s, M), x_grad, rtol=1e-6,
                               atol=1e-7)
    for got, want in zip(p_grads_s, p_grads):
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.e2e
@pytest.mark.parametrize('train', [True, False])
def test_sample_major_norm_compiles_as_one_graph(train):
    M = 3
    stream = frozen(make_norm(M, True, False)).train(train)
    sample = frozen(make_norm(M, True, True)).train(train)
    if not train:
        sample.eval(), stream.eval()
    x = torch.randn(M * 2, C, 4, 3, generator=torch.Generator().manual_seed(6))
    upstream = torch.randn_like(x)
    out, x_grad, p_grads = run(stream, x, upstream)
    torch._dynamo.reset()
    compiled = torch.compile(sample, fullgraph=True, backend='aot_eager')
    xi = to_sample_major(x, M).requires_grad_()
    got = compiled(xi)
    got.backward(to_sample_major(upstream, M))
    torch._dynamo.reset()
    torch.testing.assert_close(to_stream_major(got.detach(), M), out, rtol=0,
                               atol=1e-6)
    torch.testing.assert_close(to_stream_major(xi.grad, M), x_grad, rtol=1e-5,
                               atol=1e-6)
    for got_p, want in zip(sample.parameters(), p_grads):
        torch.testing.assert_close(got_p.grad, want, rtol=1e-5, atol=1e-6)


def test_extra_repr_names_the_layout():
    assert 'sample_major=True' in repr(ModalityNorm(4, 2, sample_major=True))
    assert 'sample_major' not in repr(ModalityNorm(4, 2))
