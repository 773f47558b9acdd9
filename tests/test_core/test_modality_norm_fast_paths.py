"""ModalityNorm's single-call paths (frozen BN, IN) with channel exchange, against a
literal reference: each stream's own ``F.batch_norm`` / ``F.instance_norm`` on its
slice, then Eq. (CEN) channel by channel. Values and gradients w.r.t. the input, every
γ and every β (the replaced value passes no gradient; the replacing values do)."""
import pytest
import torch
import torch.nn.functional as F

from cen_mm.core import ModalityNorm

THETA = 0.1


def _literal_exchange(posts, gammas, owner, mode):
    """posts: M tensors (N, C, *S); replaced channels are the others' mean."""
    M, C = len(posts), posts[0].shape[1]
    outs = []
    for m in range(M):
        channels = []
        for c in range(C):
            replace = abs(float(gammas[m][c])) < THETA and (mode == 'all'
                                                             or bool(owner[m][c]))
            if replace:
                channels.append(sum(posts[k][:, c] for k in range(M) if k != m) /
                                (M - 1))
            else:
                channels.append(posts[m][:, c])
        outs.append(torch.stack(channels, dim=1))
    return torch.cat(outs)


def _reference(norm: ModalityNorm, x, weights, biases):
    """Per-stream norm on its own slice (functional, same parameters), then the
    literal exchange."""
    M = norm.num_streams
    posts = []
    for m, chunk in enumerate(x.chunk(M)):
        layer = norm.norms[m]
        if norm._uses_frozen_bn():
            posts.append(F.batch_norm(chunk, layer.running_mean, layer.running_var,
                                      weights[m], biases[m], False, 0.0, layer.eps))
        else:
            posts.append(F.instance_norm(chunk, weight=weights[m], bias=biases[m],
                                         eps=layer.eps))
    if not norm.exchange:
        return torch.cat(posts)
    return _literal_exchange(posts, [w.detach() for w in weights], norm.owner_mask,
                             norm.exchange_mode)


def _make_norm(norm_cfg, M, C, mode, dtype=torch.float64, seed=0):
    g = torch.Generator().manual_seed(seed)
    norm = ModalityNorm(C, M, norm_cfg=norm_cfg, exchange=True, threshold=THETA,
                        exchange_mode=mode).to(dtype)
    with torch.no_grad():
        for layer in norm.norms:
            layer.weight.copy_(torch.rand(C, generator=g, dtype=dtype) + 0.5)
            layer.bias.copy_(torch.randn(C, generator=g, dtype=dtype))
            if getattr(layer, 'running_mean', None) is not None:
                layer.running_mean.copy_(torch.randn(C, generator=g, dtype=dtype))
                layer.running_var.copy_(torch.rand(C, generator=g, dtype=dtype) + 0.5)
        # below θ: some channels of every stream inside its sub-part, one outside it,
        # and channel 0 for streams 0 and 1 at once (both replace it in mode 'all')
        for m, layer in enumerate(norm.norms):
            owned = norm.owner_mask[m].nonzero().squeeze(1)
            layer.weight[owned[::2]] = 0.02 * (m + 1)
            layer.weight[(owned[-1] + 1) % C] = -0.03
        norm.norms[0].weight[0] = 0.01
        norm.norms[1].weight[0] = -0.01
    return norm


@pytest.mark.parametrize('M', [2, 3])
@pytest.mark.parametrize('mode', ['subpart', 'all'])
@pytest.mark.parametrize('norm_cfg,train', [(dict(type='BN'), False),
                                            (dict(type='IN', affine=True), True)])
def test_single_call_paths_match_literal_reference(M, mode, norm_cfg, train):
    C, N = 12, 2
    norm = _make_norm(norm_cfg, M, C, mode).train(train)
    assert (norm._uses_frozen_bn() if not train else norm._uses_per_sample_norm())
    mask = norm.exchange_mask()
    assert mask.any(dim=1).all(), 'every stream must exchange something'
    if mode == 'all':
        assert mask[0, 0] and mask[1, 0], 'a channel replaced by two streams'
    g = torch.Generator().manual_seed(1)
    x = torch.randn(M * N, C, 5, 3, generator=g, dtype=torch.float64,
                    requires_grad=True)
    upstream = torch.randn(M * N, C, 5, 3, generator=g, dtype=torch.float64)
    weights = [n.weight for n in norm.norms]
    biases = [n.bias for n in norm.norms]

    out = norm(x)
    ref = _reference(norm, x, weights, biases)
    torch.testing.assert_close(out, ref)
    grads = torch.autograd.grad((out * upstream).sum(), [x] + weights + biases)
    ref_grads = torch.autograd.grad((ref * upstream).sum(), [x] + weights + biases)
    for name, a, b in zip(['x'] + [f'γ{m}' for m in range(M)] +
                          [f'β{m}' for m in range(M)], grads, ref_grads):
        torch.testing.assert_close(a, b, msg=lambda s: f'grad {name}: {s}')
    # the replaced values pass no gradient to their own input (subpart: one owner)
    if mode == 'subpart':
        grad_x = grads[0].view(M, N, C, 5, 3)
        for m in range(M):
            replaced = mask[m].nonzero().squeeze(1)
            assert torch.equal(grad_x[m][:, replaced],
                               torch.zeros_like(grad_x[m][:, replaced]))


def test_frozen_bn_without_exchange_equals_per_stream_layers_in_float32():
    """The single-call path and each stream's nn.BatchNorm2d on its slice agree to
    float32 rounding (same per-channel kernel)."""
    M, N, C = 2, 3, 16
    norm = _make_norm(dict(type='BN'), M, C, 'subpart', dtype=torch.float32)
    norm.exchange = False
    norm.eval()
    x = torch.randn(M * N, C, 7, 9)
    ref = torch.cat([layer(c) for layer, c in zip(norm.norms, x.chunk(M))])
    torch.testing.assert_close(norm(x), ref, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize('norm_cfg,train', [(dict(type='BN'), False),
                                            (dict(type='IN', affine=True), True)])
def test_shared_norm_is_one_layer_on_the_whole_stack(norm_cfg, train):
    M, N, C = 3, 2, 6
    norm = ModalityNorm(C, M, norm_cfg=norm_cfg, shared=True).double().train(train)
    with torch.no_grad():
        layer = norm.norms[0]
        layer.weight.uniform_(0.5, 1.5)
        layer.bias.normal_()
        if getattr(layer, 'running_mean', None) is not None:
            layer.running_mean.normal_()
            layer.running_var.uniform_(0.5, 1.5)
    x = torch.randn(M * N, C, 4, 4, dtype=torch.float64)
    ref = torch.cat([layer(c) for c in x.chunk(M)])
    torch.testing.assert_close(norm(x), ref)


def test_channels_last_input_gives_the_same_result():
    M, N, C = 2, 2, 8
    norm = _make_norm(dict(type='BN'), M, C, 'subpart', dtype=torch.float32).eval()
    x = torch.randn(M * N, C, 6, 5)
    torch.testing.assert_close(norm(x.to(memory_format=torch.channels_last)), norm(x))


def test_exchange_in_a_resnet_style_block_trains_through_inplace_relu():
    """norm -> in-place ReLU -> residual add: autograd accepts the in-place exchange
    and the gradients equal those of the out-of-place reference."""
    M, N, C = 2, 2, 8
    norm = _make_norm(dict(type='BN'), M, C, 'subpart').eval()
    conv = torch.nn.Conv2d(C, C, 3, padding=1, bias=False).double()
    x = torch.randn(M * N, C, 5, 5, dtype=torch.float64, requires_grad=True)
    weights = [n.weight for n in norm.norms]
    biases = [n.bias for n in norm.norms]
    out = torch.relu_(norm(conv(x))) + x
    ref = torch.relu(_reference(norm, conv(x), weights, biases)) + x
    torch.testing.assert_close(out, ref)
    params = [x, conv.weight] + weights + biases
    for a, b in zip(torch.autograd.grad(out.square().sum(), params),
                    torch.autograd.grad(ref.square().sum(), params)):
        torch.testing.assert_close(a, b)
