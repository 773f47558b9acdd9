"""StageFusionCENResNet (fusion baselines, setting "same with ours"): fused maps are fed
back into every stream; streams kept to the end; align losses; deep copies."""
import copy

import pytest
import torch

import cen_mm  # noqa: F401
from cen_mm.models.backbones import CENResNet
from cen_mm.seg.models.backbones import StageFusionCENResNet


NARROW = dict(stem_channels=8, base_channels=8)  # stage widths 8, 16, 32, 64


def tiny(**kwargs):
    torch.manual_seed(0)
    cfg = dict(depth=18, in_channels=(3, 1), exchange=False,
               fusion=dict(type='ConcatFusion'), fusion_stages='early', **NARROW)
    cfg.update(kwargs)
    return StageFusionCENResNet(**cfg).eval()


def plain_twin(model):
    """A CENResNet with the same weights and no fusion."""
    twin = CENResNet(depth=18, in_channels=(3, 1), exchange=False, **NARROW).eval()
    state = {k: v for k, v in model.state_dict().items() if not k.startswith('fusions.')}
    twin.load_state_dict(state)
    return twin


@pytest.mark.parametrize('feedback', ['add', 'replace'])
def test_fused_map_is_fed_back_into_every_stream(feedback):
    model = tiny(feedback=feedback)
    x = torch.randn(2, 4, 32, 32)
    fused_levels = model(x)
    plain = plain_twin(model)(x)
    # before the fusion point: identical; at it: the fed-back fusion
    for m in range(2):
        torch.testing.assert_close(fused_levels[m][0], plain[m][0])
    fused = model.fusions['1']([plain[0][1], plain[1][1]])
    for m in range(2):
        expected = plain[m][1] + fused if feedback == 'add' else fused
        torch.testing.assert_close(fused_levels[m][1], expected)
    # every stream kept to the end, with its own deepest features
    assert len(fused_levels) == 2 and fused_levels[1][3].shape == (2, 64, 1, 1)


def test_fusion_parameters_are_the_blocks_only():
    model = tiny(fusion=dict(type='SSMAFusion'), fusion_stages='all')
    plain = plain_twin(model)
    extra = sum(p.numel() for p in model.parameters()) - sum(
        p.numel() for p in plain.parameters())
    assert extra == sum(p.numel() for p in model.fusions.parameters())
    assert list(model.fusions) == ['0', '1', '2', '3']


def test_align_loss_is_collected_in_training():
    model = tiny(fusion=dict(type='AlignFusion'), fusion_stages='all').train()
    assert model.fusion_losses()['loss_align'].item() == 0.0
    model(torch.randn(2, 4, 32, 32))
    loss = model.fusion_losses()['loss_align']
    expected = sum(block.last_loss for block in model.fusions.values())
    torch.testing.assert_close(loss, expected)
    assert loss.item() > 0
    loss.backward()
    assert model.fusions['0'].common[0].weight.grad.abs().sum() > 0
    assert tiny().fusion_losses() == {}  # concat keeps no loss


def test_deep_copy_uses_its_own_fusion_blocks():
    model = tiny()
    clone = copy.deepcopy(model)
    with torch.no_grad():
        clone.fusions['1'].conv.weight.zero_()
        clone.fusions['1'].conv.bias.zero_()
    x = torch.randn(1, 4, 32, 32)
    plain = plain_twin(model)(x)
    torch.testing.assert_close(clone(x)[0][1], plain[0][1])  # zero fusion added
    assert not torch.allclose(model(x)[0][1], plain[0][1])


def test_bad_feedback_is_named():
    with pytest.raises(ValueError, match="feedback='sum'"):
        tiny(feedback='sum')
