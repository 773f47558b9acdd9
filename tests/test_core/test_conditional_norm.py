"""``ConditionalModalityNorm`` (CBN baseline): at init it is the private-norm network,
the target stream's γ/β get per-sample offsets from the source stream (values against
a hand computation), the dependence is one-way, and gradients reach the source."""
import copy

import pytest
import torch
import torch.nn.functional as F

from cen_mm.core import ModalityNorm
from cen_mm.core.conditional_norm import ConditionalModalityNorm


def randomise(norm, seed=0):
    torch.manual_seed(seed)
    with torch.no_grad():
        for layer in norm.norms:
            layer.weight.uniform_(0.5, 1.5)
            layer.bias.uniform_(-1, 1)
            if getattr(layer, 'running_mean', None) is not None:
                layer.running_mean.uniform_(-1, 1)
                layer.running_var.uniform_(0.5, 2)
    return norm


def set_condition(norm, seed=1):
    torch.manual_seed(seed)
    with torch.no_grad():
        for p in norm.condition.parameters():
            p.uniform_(-0.5, 0.5)


@pytest.mark.parametrize('norm_cfg,train', [(dict(type='BN'), True),
                                            (dict(type='BN'), False),
                                            (dict(type='IN', affine=True), True)])
def test_untrained_cbn_is_the_private_norm_network(norm_cfg, train):
    """Zero-initialised MLP: outputs and running statistics equal ModalityNorm's."""
    cbn = randomise(ConditionalModalityNorm(6, 2, norm_cfg=norm_cfg))
    plain = ModalityNorm(6, 2, norm_cfg=norm_cfg)
    plain.norms = copy.deepcopy(cbn.norms)
    cbn.train(train)
    plain.train(train)
    x = torch.randn(4, 6, 5, 5)
    out, expected = cbn(x), plain(x)
    assert out.shape == (4, 6, 5, 5)
    torch.testing.assert_close(out, expected)
    for a, b in zip(cbn.norms, plain.norms):
        for name in ('running_mean', 'running_var', 'num_batches_tracked'):
            if getattr(a, name, None) is not None:
                assert torch.equal(getattr(a, name), getattr(b, name)), name


def test_target_modulated_by_source_hand_computation():
    """Frozen BN (the papers' norm_eval): depth = x̂·(γ + Δγ) + (β + Δβ) with
    [Δγ, Δβ] = MLP(GAP(RGB's norm output)); RGB = its own BN."""
    cbn = randomise(ConditionalModalityNorm(4, 2, reduction=1))
    set_condition(cbn)
    cbn.eval()
    assert cbn.condition[0].out_features == 8  # max(4 // 1, 8)
    x = torch.randn(6, 4, 3, 3)  # N = 3
    out = cbn(x)
    rgb_bn, depth_bn = cbn.norms
    rgb = F.batch_norm(x[:3], rgb_bn.running_mean, rgb_bn.running_var, rgb_bn.weight,
                       rgb_bn.bias, False, 0.0, rgb_bn.eps)
    pooled = rgb.mean(dim=(2, 3))
    w1, b1, w2, b2 = (cbn.condition[0].weight, cbn.condition[0].bias,
                      cbn.condition[2].weight, cbn.condition[2].bias)
    delta = torch.relu(pooled @ w1.T + b1) @ w2.T + b2
    d_gamma, d_beta = delta[:, :4], delta[:, 4:]
    x_hat = (x[3:] - depth_bn.running_mean[:, None, None]) / torch.sqrt(
        depth_bn.running_var[:, None, None] + depth_bn.eps)
    depth = x_hat * (depth_bn.weight + d_gamma)[:, :, None, None] + (
        depth_bn.bias + d_beta)[:, :, None, None]
    torch.testing.assert_close(out[:3], rgb)
    torch.testing.assert_close(out[3:], depth)
    assert not torch.allclose(d_gamma[0], d_gamma[1])  # per sample


def test_one_way_dependence_and_gradients():
    cbn = randomise(ConditionalModalityNorm(6, 2))
    set_condition(cbn)
    cbn.eval()
    x = torch.randn(4, 6, 4, 4)
    changed_rgb, changed_depth = x.clone(), x.clone()
    changed_rgb[:2] += torch.randn(2, 6, 4, 4)
    changed_depth[2:] += torch.randn(2, 6, 4, 4)
    with torch.no_grad():
        base, by_rgb, by_depth = cbn(x), cbn(changed_rgb), cbn(changed_depth)
    assert not torch.allclose(base[2:], by_rgb[2:])  # depth depends on RGB
    assert torch.equal(base[:2], by_depth[:2])  # RGB does not depend on depth

    xg = x.clone().requires_grad_()
    out = cbn(xg)
    grad_x, *grad_mlp = torch.autograd.grad(out[2:].square().sum(),
                                            [xg, *cbn.condition.parameters()])
    assert grad_x[:2].abs().sum() > 0  # the depth loss reaches the RGB stream
    assert all(g.abs().sum() > 0 for g in grad_mlp)
    (grad_x, ) = torch.autograd.grad(cbn(xg)[:2].sum(), xg)
    assert torch.all(grad_x[2:] == 0)  # the RGB loss does not reach depth


def test_three_streams_and_errors():
    cbn = randomise(ConditionalModalityNorm(4, 3, source_stream=2, target_stream=0))
    set_condition(cbn)
    cbn.eval()
    plain = ModalityNorm(4, 3)
    plain.norms = copy.deepcopy(cbn.norms)
    plain.eval()
    x = torch.randn(6, 4, 2, 2)
    with torch.no_grad():
        out, expected = cbn(x), plain(x)
    torch.testing.assert_close(out[2:], expected[2:])  # streams 1, 2 unmodulated
    assert not torch.allclose(out[:2], expected[:2])
    assert 'source_stream=2, target_stream=0' in repr(cbn)
    with pytest.raises(ValueError, match='must differ'):
        ConditionalModalityNorm(4, 2, source_stream=1, target_stream=1)
    with pytest.raises(ValueError, match=r'target_stream=2 is not a stream index'):
        ConditionalModalityNorm(4, 2, target_stream=2)
    with pytest.raises(TypeError, match='BN/SyncBN/IN'):
        ConditionalModalityNorm(4, 2, norm_cfg=dict(type='GN', num_groups=2))
    with pytest.raises(ValueError, match=r'expects \(M\*N, 4'):
        cbn(torch.randn(4, 4, 2, 2))
