"""Exchange policies (``cen_mm.core.exchange_policies``) inside ``ModalityNorm``:
which channels the fixed-ratio and random policies replace (hand-computed), values
and gradients against a plain per-(stream, channel) reference loop, reproducibility
under a seed, the test-time rules, and that the default (None) path is unchanged."""
import copy

import pytest
import torch

from cen_mm.core import ModalityNorm
from cen_mm.core.exchange_policies import (FixedRatioExchange, RandomExchange,
                                           build_exchange_policy, num_replaced)


def make_norm(C=8, M=2, policy=None, mode='subpart', frozen=False, seed=0):
    torch.manual_seed(seed)
    norm = ModalityNorm(C, M, norm_cfg=dict(type='BN'), exchange=True,
                        threshold=0.3, exchange_mode=mode, exchange_policy=policy)
    with torch.no_grad():
        for layer in norm.norms:
            layer.weight.uniform_(-1, 1)  # some |γ| < θ: the default rule would act
            layer.bias.uniform_(-1, 1)
            layer.running_mean.uniform_(-1, 1)
            layer.running_var.uniform_(0.5, 2)
    if frozen:
        for layer in norm.norms:
            layer.eval()
    return norm


def reference(norm: ModalityNorm, x: torch.Tensor, mask: torch.Tensor):
    """Plain loop: each stream through its own layer, then every replaced (m, c)
    set to the mean over m' != m of the others' normalised channel c."""
    M = norm.num_streams
    streams = [layer(chunk) for layer, chunk in zip(norm.norms, x.chunk(M))]
    out = []
    for m in range(M):
        channels = []
        for c in range(x.shape[1]):
            if mask[m, c]:
                others = [streams[k][:, c] for k in range(M) if k != m]
                channels.append(sum(others) / len(others))
            else:
                channels.append(streams[m][:, c])
        out.append(torch.stack(channels, dim=1))
    return torch.cat(out)


def grads(norm, x, out, upstream):
    params = [p for layer in norm.norms for p in (layer.weight, layer.bias)]
    return torch.autograd.grad(out, [x] + params, upstream)


# ---- building -------------------------------------------------------------------------
def test_build_and_errors():
    assert build_exchange_policy(None) is None
    assert build_exchange_policy(dict(type='threshold')) is None  # = the default
    policy = build_exchange_policy(dict(type='fixed_ratio', ratio=0.25))
    assert isinstance(policy, FixedRatioExchange) and policy.ratio == 0.25
    with pytest.raises(ValueError, match=r"'fixed_ratio', 'random', 'threshold'"):
        build_exchange_policy(dict(type='shuffle'))
    with pytest.raises(ValueError, match='ratio must be in'):
        build_exchange_policy(dict(type='random', ratio=1.5))
    with pytest.raises(ValueError, match='test_mode'):
        build_exchange_policy(dict(type='random', test_mode='mean'))
    with pytest.raises(ValueError, match='unexpected keyword'):
        build_exchange_policy(dict(type='fixed_ratio', portion=0.3))
    with pytest.raises(ValueError, match='needs exchange=True'):
        ModalityNorm(8, 2, exchange=False, exchange_policy=dict(type='fixed_ratio'))
    norm = ModalityNorm(8, 2, exchange=True, exchange_policy=dict(type='threshold'))
    assert norm.exchange_policy is None


def test_num_replaced_rounds_half_up():
    assert [num_replaced(k, 0.3) for k in (32, 64, 128, 256, 5)] == [10, 19, 38, 77, 2]
    assert num_replaced(3, 0.5) == 2 and num_replaced(4, 1.0) == 4
    assert num_replaced(0, 0.3) == 0


# ---- fixed ratio ----------------------------------------------------------------------
def test_fixed_ratio_channels():
    """C=8, M=2, ratio 0.5: sub-parts [0,4), [4,8), 2 channels each."""
    norm = make_norm(policy=dict(type='fixed_ratio', ratio=0.5))
    expected = torch.zeros(2, 8, dtype=torch.bool)
    expected[0, [0, 1]] = expected[1, [4, 5]] = True
    assert torch.equal(norm.exchange_mask(), expected)
    norm.eval()  # same channels at test time, independent of γ
    with torch.no_grad():
        norm.norms[0].weight.fill_(5.0)
    assert torch.equal(norm.exchange_mask(), expected)

    last = make_norm(policy=dict(type='fixed_ratio', ratio=0.5, position='last'))
    expected = torch.zeros(2, 8, dtype=torch.bool)
    expected[0, [2, 3]] = expected[1, [6, 7]] = True
    assert torch.equal(last.exchange_mask(), expected)

    # exchange_mode='all': every stream's candidates are all 8 channels
    every = make_norm(policy=dict(type='fixed_ratio', ratio=0.3), mode='all')
    expected = torch.zeros(2, 8, dtype=torch.bool)
    expected[:, [0, 1]] = True  # round(2.4) = 2
    assert torch.equal(every.exchange_mask(), expected)

    # M=3, C=10: sub-parts of 3, 3, 4 channels; 50 % -> 2, 2, 2
    three = make_norm(C=10, M=3, policy=dict(type='fixed_ratio', ratio=0.5))
    assert three.exchange_mask().nonzero().tolist() == [[0, 0], [0, 1], [1, 3], [1, 4],
                                                        [2, 6], [2, 7]]


@pytest.mark.parametrize('M,frozen,mode', [(2, False, 'subpart'), (2, True, 'subpart'),
                                           (3, False, 'subpart'), (2, False, 'all')])
def test_fixed_ratio_values_and_gradients_match_reference(M, frozen, mode):
    C = 10
    norm = make_norm(C, M, dict(type='fixed_ratio', ratio=0.4), mode, frozen)
    ref_norm = copy.deepcopy(norm)
    mask = norm.exchange_mask()
    assert mask.sum() > 0
    x = torch.randn(M * 2, C, 3, 3, requires_grad=True)
    x_ref = x.detach().clone().requires_grad_()
    out, out_ref = norm(x), reference(ref_norm, x_ref, mask)
    torch.testing.assert_close(out, out_ref)
    upstream = torch.randn_like(out)
    for g, g_ref in zip(grads(norm, x, out, upstream),
                        grads(ref_norm, x_ref, out_ref, upstream)):
        torch.testing.assert_close(g, g_ref)
    # γ of stream 0 gets no gradient exactly where its value is replaced and not
    # used to replace another stream's channel ('all': both streams swap them)
    g_gamma = grads(norm, x, norm(x), upstream)[1]
    silent = mask[0] & ~mask[1:].any(dim=0)
    assert torch.all(g_gamma[silent] == 0) and torch.all(g_gamma[~silent] != 0)
    assert silent.any() == (mode == 'subpart')


def test_fixed_ratio_inference_path_equals_autograd_path():
    norm = make_norm(policy=dict(type='fixed_ratio', ratio=0.5), frozen=True)
    x = torch.randn(4, 8, 5, 5)
    expected = norm(x.requires_grad_()).detach()
    with torch.no_grad():
        first, second = norm(x), norm(x)  # second call: the cached inference plan
    assert torch.equal(first, expected) and torch.equal(second, expected)
    # and it is not the threshold rule's result
    default = make_norm(frozen=True)
    with torch.no_grad():
        assert not torch.equal(default(x), expected)


# ---- random -----------------------------------------------------------------------------
def test_random_draws_within_subparts_and_reproduces_under_seed():
    C, M = 20, 2
    norm = make_norm(C, M, dict(type='random', ratio=0.3))
    x = torch.randn(4, C, 2, 2)
    assert not norm.exchange_mask().any()  # nothing drawn before the first pass

    def run(seed, calls=4):
        torch.manual_seed(seed)
        masks, outs = [], []
        for _ in range(calls):
            outs.append(norm(x).detach())
            masks.append(norm.exchange_mask())
        return masks, outs

    masks, outs = run(1)
    for mask in masks:
        # 3 of each stream's 10 sub-part channels, only inside its own sub-part
        assert mask.sum(dim=1).tolist() == [3, 3]
        assert not (mask & ~norm.owner_mask).any()
    assert len({tuple(m.flatten().tolist()) for m in masks}) > 1  # new draw per pass
    masks2, outs2 = run(1)
    assert all(torch.equal(a, b) for a, b in zip(masks, masks2))
    assert all(torch.equal(a, b) for a, b in zip(outs, outs2))
    masks3, _ = run(2)
    assert any(not torch.equal(a, b) for a, b in zip(masks, masks3))


@pytest.mark.parametrize('M', [2, 3])
def test_random_values_and_gradients_match_reference(M):
    C = 12
    norm = make_norm(C, M, dict(type='random', ratio=0.5))
    ref_norm = copy.deepcopy(norm)
    x = torch.randn(M * 2, C, 3, 3, requires_grad=True)
    x_ref = x.detach().clone().requires_grad_()
    out = norm(x)
    mask = norm.exchange_mask()  # the draw this pass used
    assert mask.sum(dim=1).tolist() == [num_replaced(C // M, 0.5)] * M
    out_ref = reference(ref_norm, x_ref, mask)
    torch.testing.assert_close(out, out_ref)
    upstream = torch.randn_like(out)
    for g, g_ref in zip(grads(norm, x, out, upstream),
                        grads(ref_norm, x_ref, out_ref, upstream)):
        torch.testing.assert_close(g, g_ref)


def test_random_test_modes():
    C = 8
    x = torch.randn(4, C, 3, 3)
    # 'expected' (default): (1 - p) * own + p * other's on the sub-part, p = 2/4
    norm = make_norm(C, 2, dict(type='random', ratio=0.5), frozen=True).eval()
    with torch.no_grad():
        streams = [layer(c) for layer, c in zip(norm.norms, x.chunk(2))]
        out = norm(x)
        assert torch.equal(norm(x), out)  # deterministic
    expected = [s.clone() for s in streams]
    expected[0][:, :4] = 0.5 * streams[0][:, :4] + 0.5 * streams[1][:, :4]
    expected[1][:, 4:] = 0.5 * streams[1][:, 4:] + 0.5 * streams[0][:, 4:]
    torch.testing.assert_close(out, torch.cat(expected))
    # with autograd as well (the blend, both terms get gradient)
    xg = x.clone().requires_grad_()
    out_g = norm(xg)
    torch.testing.assert_close(out_g, out)
    (g, ) = torch.autograd.grad(out_g[:2, 0].sum(), xg)  # stream 0, owned channel 0
    assert g[:2, 0].abs().sum() > 0 and g[2:, 0].abs().sum() > 0

    # 'fixed': the fixed-ratio policy's channels
    fixed = make_norm(C, 2, dict(type='random', ratio=0.5, test_mode='fixed'),
                      frozen=True).eval()
    reference_norm = make_norm(C, 2, dict(type='fixed_ratio', ratio=0.5),
                               frozen=True).eval()
    with torch.no_grad():
        assert torch.equal(fixed(x), reference_norm(x))
    assert torch.equal(fixed.exchange_mask(), reference_norm.exchange_mask())

    # 'random': keeps drawing at test time, reproducibly under a seed
    rand = make_norm(C, 2, dict(type='random', ratio=0.5, test_mode='random'),
                     frozen=True).eval()
    with torch.no_grad():
        torch.manual_seed(3)
        a = [rand(x) for _ in range(3)]
        torch.manual_seed(3)
        b = [rand(x) for _ in range(3)]
    assert all(torch.equal(p, q) for p, q in zip(a, b))
    assert not all(torch.equal(a[0], p) for p in a[1:])


# ---- the default path -----------------------------------------------------------------
@pytest.mark.parametrize('frozen', [False, True])
def test_default_path_unchanged(frozen):
    """policy None and dict(type='threshold') give bit-identical outputs and gradients
    (both are the default path); the threshold rule does exchange here."""
    a = make_norm(frozen=frozen)
    b = make_norm(frozen=frozen)
    b_explicit = ModalityNorm(8, 2, exchange=True, threshold=0.3,
                              exchange_policy=dict(type='threshold'))
    b_explicit.load_state_dict(b.state_dict())
    b_explicit.train(b.training)
    if frozen:
        for layer in b_explicit.norms:
            layer.eval()
    assert a.exchange_policy is None and b_explicit.exchange_policy is None
    assert a.exchange_mask().any()
    x = torch.randn(4, 8, 3, 3)
    xa, xb = x.clone().requires_grad_(), x.clone().requires_grad_()
    out_a, out_b = a(xa), b_explicit(xb)
    assert torch.equal(out_a, out_b)
    upstream = torch.randn_like(out_a)
    for ga, gb in zip(grads(a, xa, out_a, upstream), grads(b_explicit, xb, out_b,
                                                           upstream)):
        assert torch.equal(ga, gb)
    assert 'exchange_policy' not in repr(a)
    assert 'RandomExchange(ratio=0.3' in repr(make_norm(policy=dict(type='random')))
