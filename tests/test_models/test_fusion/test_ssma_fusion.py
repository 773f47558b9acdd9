"""SSMAFusion: shapes, parameter count, gating behaviour, gradients."""
import torch
import torch.nn as nn

from cen_mm.models.fusion import SSMAFusion


def test_ssma_parameter_count_is_20_25_c_squared_plus_biases_and_bn():
    C = 64
    fusion = SSMAFusion(channels=C, reduction=16)
    hidden = C // 16
    expected = (9 * 2 * C * hidden + hidden) + (9 * hidden * 2 * C + 2 * C) + \
        9 * 2 * C * C + 2 * C
    assert sum(p.numel() for p in fusion.parameters()) == expected
    assert 9 * 2 * C * hidden * 2 + 9 * 2 * C * C == int(20.25 * C * C)


def test_ssma_gate_scales_the_concatenation():
    torch.manual_seed(0)
    fusion = SSMAFusion(channels=4, reduction=2, norm_cfg=None).eval()
    a, b = torch.randn(2, 4, 3, 3), torch.randn(2, 4, 3, 3)
    gate = fusion.gate([a, b])
    assert gate.shape == (2, 8, 3, 3)
    assert bool(((gate > 0) & (gate < 1)).all())
    expected = fusion.fuse_conv(torch.cat([a, b], 1) * gate)
    out = fusion([a, b])
    assert out.shape == (2, 4, 3, 3)
    torch.testing.assert_close(out, expected)


def test_ssma_gate_can_switch_a_stream_off():
    """A strongly negative last bias closes the gate: the output then ignores the
    streams (only the fusion conv's bias is left)."""
    fusion = SSMAFusion(channels=4, reduction=2, norm_cfg=None).eval()
    with torch.no_grad():
        fusion.bottleneck[2].weight.zero_()
        fusion.bottleneck[2].bias.fill_(-100.0)
    a, b = torch.randn(1, 4, 3, 3), torch.randn(1, 4, 3, 3)
    out = fusion([a, b])
    bias = fusion.fuse_conv.bias[None, :, None, None]
    torch.testing.assert_close(out, bias.expand_as(out))
    # gate open (1) everywhere: the fusion conv sees the plain concatenation
    with torch.no_grad():
        fusion.bottleneck[2].bias.fill_(100.0)
    torch.testing.assert_close(fusion([a, b]), fusion.fuse_conv(torch.cat([a, b], 1)))


def test_ssma_gradients_reach_inputs_and_gate():
    fusion = SSMAFusion(channels=8, reduction=4)
    feats = [torch.randn(2, 8, 3, 3, requires_grad=True) for _ in range(2)]
    fusion(feats).pow(2).sum().backward()
    assert all(f.grad.abs().sum() > 0 for f in feats)
    assert fusion.bottleneck[0].weight.grad.abs().sum() > 0
    assert isinstance(fusion.norm, nn.BatchNorm2d)
