"""FusionResNet (fusion baselines, commonly-used setting): separate branches up to the
fusion stage, one network after it; levels, values, parameter bookkeeping, inflation."""
import pytest
import torch
import torch.nn as nn

import cen_mm  # noqa: F401
from cen_mm.models.backbones import CENResNet, ModalityConv2d
from cen_mm.seg.models.backbones import FusionResNet


NARROW = dict(stem_channels=8, base_channels=8)  # stage widths 8, 16, 32, 64


def n_params(module):
    return sum(p.numel() for p in module.parameters())


def tiny(**kwargs):
    torch.manual_seed(0)
    cfg = dict(depth=18, in_channels=(3, 1), fusion=dict(type='ConcatFusion'),
               fusion_stages='middle', **NARROW)
    cfg.update(kwargs)
    return FusionResNet(**cfg).eval()


def test_branches_until_the_fusion_stage_then_one_network():
    model = tiny()
    assert model.fusion_stages == (2, )
    assert isinstance(model.conv1, ModalityConv2d)
    assert isinstance(model.layer3[0].conv1, ModalityConv2d)
    assert isinstance(model.layer4[0].conv1, nn.Conv2d)
    assert len(model.layer4[0].bn1.norms) == 1 and len(model.layer3[0].bn1.norms) == 2
    assert list(model.fusions) == ['2']


def test_levels_are_mean_fused_and_single_stream():
    model = tiny()
    seen = {}
    for name in ('layer1', 'layer3', 'layer4'):
        getattr(model, name).register_forward_hook(
            lambda m, a, out, name=name: seen.update({name: (a[0], out)}))
    x = torch.randn(2, 4, 64, 64)
    levels = model(x)
    assert [tuple(t.shape) for t in levels] == [(2, 8, 16, 16), (2, 16, 8, 8),
                                                (2, 32, 4, 4), (2, 64, 2, 2)]
    rgb, depth = seen['layer1'][1].chunk(2)  # branches' stage-0 outputs
    torch.testing.assert_close(levels[0], (rgb + depth) / 2)
    fused = model.fusions['2'](seen['layer3'][1].chunk(2))
    torch.testing.assert_close(levels[2], fused)
    torch.testing.assert_close(seen['layer4'][0], fused)  # the one network continues
    torch.testing.assert_close(levels[3], seen['layer4'][1])


def test_parameters_single_network_plus_branch_copy_plus_fusion():
    model = tiny(fusion=dict(type='SSMAFusion'), fusion_stages='early')
    single = CENResNet(depth=18, in_channels=(3, ), exchange=False, **NARROW)
    two_stages = dict(num_stages=2, strides=(1, 2), dilations=(1, 1), out_indices=(1, ),
                      exchange=False, **NARROW)
    branches = CENResNet(depth=18, in_channels=(3, 1), shared_convs=False, **two_stages)
    single_part = CENResNet(depth=18, in_channels=(3, ), **two_stages)
    expected = n_params(single) + n_params(branches) - n_params(single_part) + \
        n_params(model.fusions)
    assert n_params(model) == expected
    assert n_params(model.fusions) > 9 * 2 * 16 * 16  # SSMA's 3x3 conv 2C -> C


def test_all_stage_fusion_keeps_the_branches_to_the_end():
    model = tiny(fusion_stages='all')
    assert list(model.fusions) == ['0', '1', '2', '3']
    assert isinstance(model.layer4[0].conv1, ModalityConv2d)
    levels = model(torch.randn(1, 4, 32, 32))
    assert [t.shape[1] for t in levels] == [8, 16, 32, 64]
    assert [t.shape[0] for t in levels] == [1, 1, 1, 1]


def test_imagenet_checkpoint_inflates_into_branches_and_single_network(tmp_path):
    ckpt = tmp_path / 'resnet18.pth'
    # a narrow single-stream ResNet-18 in torchvision's key layout (+ an fc layer)
    single = CENResNet(depth=18, in_channels=(3, ), exchange=False, **NARROW)
    single.init_weights()
    reference = {k.replace('.norms.0.', '.'): v.clone() + 0.5
                 for k, v in single.state_dict().items()}
    reference.update({'fc.weight': torch.zeros(10, 64), 'fc.bias': torch.zeros(10)})
    torch.save(reference, ckpt)
    model = tiny(init_cfg=dict(type='Pretrained', checkpoint=str(ckpt)))
    before = model.fusions['2'].conv.weight.clone()
    model.init_weights()
    for m in range(2):
        torch.testing.assert_close(model.layer2[0].conv1.convs[m].weight,
                                   reference['layer2.0.conv1.weight'])
    torch.testing.assert_close(model.layer4[1].conv2.weight,
                               reference['layer4.1.conv2.weight'])
    torch.testing.assert_close(model.layer4[1].bn2.norms[0].running_var,
                               reference['layer4.1.bn2.running_var'])
    torch.testing.assert_close(model.fusions['2'].conv.weight, before)
    assert 'fusions' in dict(model.named_children())


def test_bad_fusion_stages_are_named():
    with pytest.raises(ValueError, match="fusion_stages='first'"):
        tiny(fusion_stages='first')
    with pytest.raises(ValueError, match=r'stage indices in \[0, 4\)'):
        tiny(fusion_stages=(4, ))
