"""StreamEnsemble / ConcatFusionEnsemble: values against hand computations, gradients,
output selection, loss naming and loading checkpoints with a top-level ``alpha``."""
import pytest
import torch
import torch.nn as nn
from mmengine.registry import MODELS

from cen_mm.core import (ConcatFusionEnsemble, StreamEnsemble, build_stream_ensemble,
                         load_legacy_alpha)


def _stack(m=2, n=2, k=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(m * n, k, 2, 2, generator=g)


def test_value_is_the_softmax_weighted_sum():
    ens = StreamEnsemble(2)
    torch.testing.assert_close(ens.alpha.data, torch.ones(2))  # official init
    with torch.no_grad():
        ens.alpha.copy_(torch.tensor([0.0, torch.log(torch.tensor(3.0))]))
    x = _stack()
    # softmax([0, log 3]) = [1/4, 3/4]
    torch.testing.assert_close(ens(x), 0.25 * x[:2] + 0.75 * x[2:])
    torch.testing.assert_close(ens.weights().detach(), torch.tensor([0.25, 0.75]))


def test_bfloat16_outputs_keep_their_dtype():
    ens = StreamEnsemble(2)
    x = _stack()
    out = ens(x.bfloat16())
    assert out.dtype == torch.bfloat16
    torch.testing.assert_close(out.float(), ens(x), atol=2e-2, rtol=2e-2)


def test_gradient_reaches_alpha_only():
    ens = StreamEnsemble(3)
    x = _stack(m=3).requires_grad_()
    out = ens(x)
    out.sum().backward()
    assert x.grad is None
    w = torch.softmax(ens.alpha.detach(), 0)
    sums = x.detach().view(3, -1).sum(1)
    # d/dα_j Σ_m w_m s_m = w_j (s_j - Σ_m w_m s_m)
    torch.testing.assert_close(ens.alpha.grad, w * (sums - (w * sums).sum()))


def test_task_grid_one_softmax_per_task_and_task_subsets():
    T, M, N = 3, 2, 2
    ens = StreamEnsemble(M, num_tasks=T)
    assert ens.alpha.shape == (T, M)
    with torch.no_grad():
        ens.alpha.copy_(torch.tensor([[0., 1.], [2., 0.], [0.5, -0.5]]))
    x = torch.randn(T * M * N, 1, 4, 4)
    grid = x.view(T, M, N, 1, 4, 4)
    w = torch.softmax(ens.alpha.detach(), dim=1)
    expected = torch.cat([w[t, 0] * grid[t, 0] + w[t, 1] * grid[t, 1] for t in range(T)])
    torch.testing.assert_close(ens(x), expected)
    # a subset of tasks (CEN-random trains one flow per step): their rows only
    sub = torch.cat([grid[2].reshape(-1, 1, 4, 4), grid[0].reshape(-1, 1, 4, 4)])
    torch.testing.assert_close(ens(sub, tasks=[2, 0]),
                               torch.cat([expected[2 * N:], expected[:N]]))
    with pytest.raises(ValueError, match='out of range'):
        ens(x[:M * N], tasks=[3])


def test_single_stream_has_no_weights_and_returns_the_stream():
    ens = StreamEnsemble(1, num_tasks=2)
    assert ens.alpha is None and not list(ens.parameters())
    x = torch.randn(4, 3)
    assert torch.equal(ens(x), x)
    assert torch.equal(ens.weights(), torch.ones(2, 1))


def test_output_selection_and_names():
    ens = StreamEnsemble(2)
    x = _stack()
    outs = ens.outputs(x)
    assert len(outs) == 3
    assert torch.equal(outs[0], x[:2]) and torch.equal(outs[1], x[2:])
    torch.testing.assert_close(outs[2], ens(x))
    assert torch.equal(ens.select(x, 1), x[2:])
    torch.testing.assert_close(ens.select(x, 'ensemble'), outs[2])
    assert all(torch.equal(a, b) for a, b in zip(ens.select(x, 'all'), outs))
    for bad in (2, -1, 'ens', True, '1'):
        with pytest.raises(ValueError, match="test_cfg.output must be 'ensemble'"):
            ens.check_output(bad, key='test_cfg.output')
    assert ens.output_names() == ['s0', 's1', 'ens']
    named = ens.name_losses([dict(loss_ce=torch.tensor(float(i)), acc=i)
                             for i in range(3)], 'decode')
    assert named == {'s0.decode.loss_ce': torch.tensor(0.), 's0.decode.acc': 0,
                     's1.decode.loss_ce': torch.tensor(1.), 's1.decode.acc': 1,
                     'ens.decode.loss_ce': torch.tensor(2.), 'ens.decode.acc': 2}
    assert set(ens.name_losses([dict(loss=1)] * 3)) == {'s0.loss', 's1.loss', 'ens.loss'}
    with pytest.raises(ValueError, match='2 loss dicts'):
        ens.name_losses([{}, {}])


def test_concat_fusion_starts_as_the_mean_and_is_a_1x1_conv():
    M, K = 3, 4
    fusion = MODELS.build(dict(type='ConcatFusionEnsemble', num_streams=M, channels=K))
    assert isinstance(fusion, ConcatFusionEnsemble)
    assert fusion.fuse.weight.shape == (K, M * K, 1, 1)
    x = _stack(m=M, k=K)
    mean = x.view(M, 2, K, 2, 2).mean(0)
    torch.testing.assert_close(fusion(x), mean)
    # any weights: out[:, k] = Σ_c W[k, c] · concat[:, c] + b[k]
    with torch.no_grad():
        fusion.fuse.weight.normal_()
        fusion.fuse.bias.normal_()
    cat = torch.cat(x.chunk(M), dim=1)  # (N, M·K, 2, 2)
    expected = torch.einsum('kc,nchw->nkhw', fusion.fuse.weight[..., 0, 0], cat) + \
        fusion.fuse.bias.view(1, K, 1, 1)
    torch.testing.assert_close(fusion(x), expected)
    # classifier logits (M·N, K) are 1x1 maps
    logits = torch.randn(M * 2, K)
    torch.testing.assert_close(
        fusion(logits), fusion(logits[..., None, None])[..., 0, 0])
    # trained by the ensemble loss only (stream outputs detached)
    x.requires_grad_()
    fusion(x).sum().backward()
    assert x.grad is None and fusion.fuse.weight.grad.abs().sum() > 0
    assert fusion.output_names() == ['s0', 's1', 's2', 'ens']
    with pytest.raises(ValueError, match='channels=4'):
        fusion(torch.randn(M * 2, 5, 2, 2))


def test_build_fills_streams_and_channels():
    ens = build_stream_ensemble(None, 2, channels=5)
    assert type(ens) is StreamEnsemble and ens.alpha.shape == (2, )
    fusion = build_stream_ensemble(dict(type='ConcatFusionEnsemble'), 2, channels=5)
    assert fusion.channels == 5 and fusion.num_streams == 2
    with pytest.raises(ValueError, match='ensemble.num_streams=3'):
        build_stream_ensemble(dict(type='StreamEnsemble', num_streams=3), 2)
    with pytest.raises(TypeError, match='expected a BaseStreamEnsemble'):
        build_stream_ensemble(dict(type='ExchangeNeck', in_channels=[4],
                                   out_channels=4), 2)


class _OldStyle(nn.Module):
    """A model that now keeps its α in ``ensemble`` (as the CEN models do)."""

    def __init__(self, num_streams=2, ensemble=None):
        super().__init__()
        self.head = nn.Linear(2, 2)
        self.ensemble = ensemble or StreamEnsemble(num_streams)
        load_legacy_alpha(self, 'ensemble')


def test_legacy_top_level_alpha_loads_strictly():
    old = {'head.weight': torch.ones(2, 2), 'head.bias': torch.zeros(2),
           'alpha': torch.tensor([0.3, -0.4])}
    model = _OldStyle()
    model.load_state_dict(dict(old), strict=True)
    torch.testing.assert_close(model.ensemble.alpha.data, torch.tensor([0.3, -0.4]))
    # nested under a parent module (e.g. `generators.alpha`)
    parent = nn.Module()
    parent.generators = _OldStyle()
    parent.load_state_dict({f'generators.{k}': v for k, v in old.items()}, strict=True)
    torch.testing.assert_close(parent.generators.ensemble.alpha.data,
                               torch.tensor([0.3, -0.4]))
    # new checkpoints load as they are
    model.load_state_dict(_OldStyle().state_dict(), strict=True)
    # one stream: the old (meaningless) α is dropped
    single = _OldStyle(num_streams=1)
    single.load_state_dict({k: v[:1] if k == 'alpha' else v for k, v in old.items()},
                           strict=True)
    # concat fusion has no α: a strict load reports it
    fusion = _OldStyle(ensemble=ConcatFusionEnsemble(2, channels=2))
    state = dict(fusion.state_dict(), alpha=old['alpha'])
    with pytest.raises(RuntimeError, match='Unexpected key.*"alpha"'):
        fusion.load_state_dict(state, strict=True)
