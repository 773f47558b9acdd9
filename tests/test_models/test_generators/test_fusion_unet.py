"""FusionUnetGenerator: the translation fusion baselines (NeurIPS'20 Table 4, supp.
Table 6) -- shapes at every fusion point, that the streams meet exactly at the requested
layer(s) (hooks and gradients), the alignment loss, and parameter counts against direct
formulas and against the one-stream CEN U-Net."""
import pytest
import torch
import torch.nn as nn
from mmengine.registry import MODELS

from cen_mm.models.fusion import AlignFusion
from cen_mm.models.generators import (CENUnetGenerator, FusionUnetGenerator,
                                      unet_channels)
from cen_mm.models.generators.fusion_unet import fusion_layer_indices
from tests.fixtures.threads import single_thread  # noqa: F401 (autouse)

FUSIONS = ('ConcatFusion', 'AverageFusion', 'AlignFusion', 'SSMAFusion')
POINTS = ('early', 'middle', 'late', 'all')
TINY = dict(num_down=5, base_channels=4, use_dropout=False)


@MODELS.register_module(force=True)
class _TestStreamPicker(nn.Module):
    """Test fusion: returns one stream's map (x 1), ignoring the others."""

    def __init__(self, num_streams: int = 2, pick: int = 0):
        super().__init__()
        self.pick = pick

    def forward(self, feats):
        return feats[self.pick] * 1.0


def tiny(fusion='ConcatFusion', fusion_layers='early', **kw):
    cfg = dict(TINY, fusion=dict(type=fusion) if isinstance(fusion, str) else fusion,
               fusion_layers=fusion_layers)
    cfg.update(kw)
    gen = FusionUnetGenerator(**cfg)
    gen.init_weights()
    return gen


def test_fusion_points():
    assert fusion_layer_indices('early', 8) == [1]
    assert fusion_layer_indices('middle', 8) == [4]
    assert fusion_layer_indices('late', 8) == [8]
    assert fusion_layer_indices('all', 8) == [1, 2, 3, 4, 5, 6, 7, 8]
    assert fusion_layer_indices([4, 1, 4], 8) == [1, 4]
    assert fusion_layer_indices('late', 5) == [5]
    with pytest.raises(ValueError, match=r"expected one of \('early'"):
        fusion_layer_indices('mid', 8)
    with pytest.raises(ValueError, match='layers 1..3'):
        fusion_layer_indices('middle', 3)
    with pytest.raises(ValueError, match='num_tasks=1'):
        tiny(num_tasks=2)
    with pytest.raises(ValueError, match='needs `fusion`'):
        FusionUnetGenerator(**TINY)
    with pytest.raises(KeyError, match="'NoSuchFusion' is not registered"):
        tiny('NoSuchFusion')
    with pytest.raises(ValueError, match='unfused_skips'):
        tiny(unfused_skips='sum')


@pytest.mark.parametrize('point', POINTS)
@pytest.mark.parametrize('fusion', FUSIONS)
def test_shapes_and_fusion_calls(fusion, point):
    """Output shapes; every requested layer's fusion module runs once on the M streams'
    maps of that layer, (N, C_l, H/2^l, W/2^l); the private streams stop there."""
    cfg = dict(type=fusion, max_samples=64) if fusion == 'AlignFusion' else fusion
    gen = tiny(cfg, point, out_channels=2)
    layers = fusion_layer_indices(point, 5)
    channels = unet_channels(5, 4)
    assert sorted(map(int, gen.fusions)) == layers
    assert [len(convs) for convs in gen.stream_convs] == [layers[-1]] * 2
    assert len(gen.trunk_convs) == 5 - layers[-1]
    calls = []
    for name, module in gen.fusions.items():
        module.register_forward_hook(
            lambda m, args, out, name=name: calls.append(
                (int(name), [tuple(f.shape) for f in args[0]], tuple(out.shape))))
    n = 3
    out = gen(torch.randn(2 * n, 3, 64, 32))
    assert out['ensemble'].shape == (1, n, 2, 64, 32)
    assert out['streams'].shape == (1, 2, n, 2, 64, 32)
    assert torch.equal(out['streams'][0, 0], out['ensemble'][0])
    assert torch.equal(out['streams'][0, 1], out['ensemble'][0])
    assert out['ensemble'].abs().max() <= 1
    assert [c[0] for c in calls] == layers
    for layer, in_shapes, out_shape in calls:
        shape = (n, channels[layer - 1], 64 >> layer, 32 >> layer)
        assert in_shapes == [shape, shape] and out_shape == shape
    assert gen.ensemble_weights() is None


def _input_grads(gen, seed=0):
    x = torch.randn(4, 3, 32, 32, generator=torch.Generator().manual_seed(seed))
    x.requires_grad_(True)
    gen(x)['ensemble'].square().sum().backward()
    return x.grad[:2], x.grad[2:]


@pytest.mark.parametrize('point', POINTS)
def test_streams_meet_only_in_the_fusion_modules(point):
    """With a fusion that passes stream 0 only, the output does not depend on stream 1
    at all (no other path joins the streams); with one that passes stream 1, not on
    stream 0; with averaging, on both."""
    first, second = _input_grads(tiny(dict(type='_TestStreamPicker', pick=0), point))
    assert first.abs().sum() > 0 and torch.count_nonzero(second) == 0
    first, second = _input_grads(tiny(dict(type='_TestStreamPicker', pick=1), point))
    assert torch.count_nonzero(first) == 0 and second.abs().sum() > 0
    first, second = _input_grads(tiny('AverageFusion', point))
    assert first.abs().sum() > 0 and second.abs().sum() > 0


@pytest.mark.parametrize('skips, extra', [('concat', 2), ('mean', 1), ('none', 0)])
def test_unfused_skips(skips, extra):
    """Middle fusion: the decoder gets the skips of layers 1-3 as configured (the
    'concat' / 'mean' options join the streams outside the fusion module too)."""
    gen = tiny(dict(type='_TestStreamPicker', pick=0), 'middle', unfused_skips=skips)
    channels = unet_channels(5, 4)
    assert gen.skip_channels == [extra * c for c in channels[:3]] + [channels[3], 0]
    for k in range(5):
        assert gen.up_convs[k].in_channels == channels[k] + gen.skip_channels[k]
    _, second = _input_grads(gen)
    assert (torch.count_nonzero(second) > 0) == (skips != 'none')


def test_alignment_loss_reaches_the_outputs():
    gen = tiny(dict(type='AlignFusion', max_samples=64), 'all')
    out = gen(torch.randn(4, 3, 32, 32))
    modules = list(gen.fusions.values())
    assert all(isinstance(m, AlignFusion) for m in modules) and len(modules) == 5
    expected = sum(m.last_loss for m in modules)
    assert set(out['losses']) == {'loss_align'}
    assert out['losses']['loss_align'].item() == pytest.approx(expected.item())
    assert out['losses']['loss_align'].item() > 0
    assert out['losses']['loss_align'].requires_grad
    out['losses']['loss_align'].backward()
    assert gen.fusions['3'].common[0].weight.grad.abs().sum() > 0
    assert gen.stream_convs[1][0].weight.grad.abs().sum() > 0
    assert tiny('ConcatFusion', 'all')(torch.randn(2, 3, 32, 32))['losses'] == {}


# ---- parameter counts (U-Net-256) ---------------------------------------------------
def _conv(cin, cout, k=4, bias=True):
    return cin * cout * k * k + (cout if bias else 0)


def _fusion_params(kind, c, has_norm):
    """Direct formulas for M = 2 (supp. §2; cen_mm/models/fusion docstrings)."""
    if kind == 'ConcatFusion':
        return _conv(2 * c, c, 1)
    if kind == 'AverageFusion':
        return 0
    if kind == 'AlignFusion':  # 2 x (common + specific) 1x1 convs, 1x1 fuse of 6C
        return 4 * _conv(c, c, 1) + _conv(6 * c, c, 1)
    hidden = c // 16  # SSMA: 3x3 bottleneck 2C -> C/16 -> 2C, 3x3 fuse 2C -> C (+ IN)
    return (_conv(2 * c, hidden, 3) + _conv(hidden, 2 * c, 3) +
            _conv(2 * c, c, 3, bias=not has_norm) + (2 * c if has_norm else 0))


def expected_params(kind, point, n=8, base=64):
    ch = unet_channels(n, base)
    layers = fusion_layer_indices(point, n)
    last = layers[-1]

    def level(i):  # conv + IN (levels 1..n-2)
        return _conv(3 if i == 0 else ch[i - 1], ch[i]) + (2 * ch[i] if 0 < i < n - 1
                                                            else 0)

    total = (2 * sum(level(i) for i in range(last)) +
             sum(level(i) for i in range(last, n)))
    total += sum(_fusion_params(kind, ch[lay - 1], 1 < lay < n) for lay in layers)
    for k in range(n):  # decoder: skip of level k only if fused or in the trunk
        skip = ch[k] if k < n - 1 and (k + 1 in layers or k + 1 > last) else 0
        total += _conv(ch[k] + skip, 3 if k == 0 else ch[k - 1])
        total += 2 * ch[k - 1] if k > 0 else 0
    return total


def test_parameter_counts_u_net_256(capsys):
    rows = []
    for kind in FUSIONS:
        for point in POINTS:
            with torch.device('meta'):
                gen = FusionUnetGenerator(fusion=dict(type=kind), fusion_layers=point)
            count = sum(p.numel() for p in gen.parameters())
            assert count == expected_params(kind, point), (kind, point)
            rows.append(f'{kind:14s} {point:7s} {count / 1e6:7.2f}M')
    with torch.device('meta'):
        cen_single = CENUnetGenerator(num_inputs=1)
    single = sum(p.numel() for p in cen_single.parameters())
    # early average fusion = the one-stream U-Net + the 2nd stream's first conv
    early_average = expected_params('AverageFusion', 'early')
    assert early_average == single + _conv(3, 64)
    assert single == 54_419_459  # Pix2Pix U-Net-256, conv biases, affine IN
    with capsys.disabled():
        print('\nFusionUnetGenerator parameters (U-Net-256, 2 inputs):\n' +
              '\n'.join(rows))
