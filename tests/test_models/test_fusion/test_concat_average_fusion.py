"""ConcatFusion / AverageFusion: shapes, values against a hand computation, errors."""
import pytest
import torch
from mmengine.registry import MODELS

import cen_mm  # noqa: F401
from cen_mm.models.fusion import AverageFusion, ConcatFusion


def test_concat_fusion_matches_hand_computation():
    torch.manual_seed(0)
    fusion = ConcatFusion(channels=3, num_streams=2)
    a, b = torch.randn(2, 3, 4, 5), torch.randn(2, 3, 4, 5)
    out = fusion([a, b])
    assert out.shape == (2, 3, 4, 5)
    w = fusion.conv.weight[:, :, 0, 0]  # (C, 2C)
    expected = (torch.einsum('oc,nchw->nohw', w[:, :3], a) +
                torch.einsum('oc,nchw->nohw', w[:, 3:], b) +
                fusion.conv.bias[None, :, None, None])
    torch.testing.assert_close(out, expected)


def test_concat_fusion_params_and_gradients():
    fusion = ConcatFusion(channels=8, num_streams=3)
    assert sum(p.numel() for p in fusion.parameters()) == 3 * 8 * 8 + 8
    feats = [torch.randn(1, 8, 2, 2, requires_grad=True) for _ in range(3)]
    fusion(feats).sum().backward()
    assert all(f.grad is not None and f.grad.abs().sum() > 0 for f in feats)
    assert fusion.conv.weight.grad.abs().sum() > 0


def test_average_fusion_is_the_mean_without_parameters():
    fusion = MODELS.build(dict(type='AverageFusion', num_streams=3))
    feats = [torch.full((1, 2, 2, 2), v) for v in (1.0, 2.0, 6.0)]
    torch.testing.assert_close(fusion(feats), torch.full((1, 2, 2, 2), 3.0))
    assert list(fusion.parameters()) == []


@pytest.mark.parametrize('feats, match', [
    ([torch.zeros(1, 3, 2, 2)], 'got 1 feature maps'),
    ([torch.zeros(1, 3, 2, 2), torch.zeros(1, 3, 2, 3)], 'stream 1 has shape'),
    ([torch.zeros(1, 4, 2, 2), torch.zeros(1, 4, 2, 2)], 'got maps with 4 channels'),
])
def test_fusion_rejects_bad_inputs(feats, match):
    with pytest.raises(ValueError, match=match):
        ConcatFusion(channels=3)(feats)


def test_fusion_rejects_a_single_tensor_and_bad_args():
    with pytest.raises(TypeError, match='sequence of 2 tensors'):
        AverageFusion()(torch.zeros(2, 1, 1, 1))
    with pytest.raises(ValueError, match='num_streams must be an int >= 2'):
        ConcatFusion(channels=3, num_streams=1)
