"""MultiStreamLayerDecayOptimizerConstructor: every parameter of a model with a
MultiStreamBackbone(ConvNeXt) gets the lr / lr_scale / weight decay that mmseg's
LearningRateDecayOptimizerConstructor gives the same-named parameter of the bare
ConvNeXt; each stream's private norm gets the lr of the layer it belongs to."""
import re

import pytest
import torch
import torch.nn as nn
from mmengine.optim import build_optim_wrapper
from mmengine.registry import MODELS, init_default_scope

import cen_mm  # noqa: F401  (registers the constructor and MultiStreamBackbone)

# 4 stages; stage 2 has 4 blocks so that layer_wise ids (block_id // 3) differ in it
TINY_CONVNEXT = dict(type='mmpretrain.ConvNeXt',
                     arch=dict(depths=[1, 1, 4, 1], channels=[8, 8, 16, 16]),
                     out_indices=[0, 1, 2, 3], gap_before_final_norm=False)
OPTIMIZER = dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.05)


class Segmentorish(nn.Module):
    """What the constructors read: ``backbone`` and a head after it."""

    def __init__(self, backbone: nn.Module):
        super().__init__()
        self.backbone = backbone
        self.decode_head = nn.Sequential(nn.Conv2d(16, 4, 1), nn.BatchNorm2d(4))


def build(backbone_cfg):
    init_default_scope('mmseg')
    torch.manual_seed(0)
    return Segmentorish(MODELS.build(backbone_cfg))


def groups_by_param(model, constructor, paramwise_cfg):
    wrapper = build_optim_wrapper(model, dict(
        type='OptimWrapper', optimizer=OPTIMIZER, constructor=constructor,
        paramwise_cfg=paramwise_cfg))
    names = {id(p): n for n, p in model.named_parameters()}
    out = {}
    for group in wrapper.optimizer.param_groups:
        assert group['param_names'] == [names[id(p)] for p in group['params']]
        for p in group['params']:
            out[names[id(p)]] = (group['lr'], group['lr_scale'],
                                 group['weight_decay'])
    assert len(out) == len(names)  # every parameter exactly once
    return out


@pytest.mark.parametrize('paramwise_cfg', [
    dict(decay_rate=0.9, decay_type='stage_wise', num_layers=6),
    dict(decay_rate=0.8, decay_type='layer_wise', num_layers=6),
])
def test_lrs_equal_the_bare_convnext(paramwise_cfg):
    bare = build(TINY_CONVNEXT)
    reference = groups_by_param(bare, 'LearningRateDecayOptimizerConstructor',
                                dict(paramwise_cfg))
    cen = build(dict(type='MultiStreamBackbone', in_channels=(3, 1),
                     backbone=TINY_CONVNEXT))
    got = groups_by_param(cen, 'MultiStreamLayerDecayOptimizerConstructor',
                          dict(paramwise_cfg))

    num_private = 0
    for name, value in got.items():
        # the bare model's name of this parameter, written out independently
        single = re.sub(r'\.norms\.\d+\.', '.', name)
        single = re.sub(r'^backbone\.backbone\.', 'backbone.', single)
        num_private += single != name and '.norms.' in name
        assert value == pytest.approx(reference[single]), name
    # both streams' copies of every LayerNorm of the backbone were checked
    num_norm_params = sum(p.numel() > 0 for m in bare.backbone.modules()
                          if isinstance(m, nn.LayerNorm) for p in m.parameters())
    assert num_private == 2 * num_norm_params == 2 * 2 * (4 + 4 + 7)

    # the rule really differentiates: several lrs, decaying towards the input
    base = OPTIMIZER['lr']
    lrs = {n: v[0] for n, v in got.items()}
    assert len(set(lrs.values())) >= 4
    assert lrs['decode_head.0.weight'] == pytest.approx(base)
    assert lrs['backbone.backbone.downsample_layers.0.0.weight'] < \
        lrs['backbone.backbone.stages.3.0.pointwise_conv1.weight'] < base
    # private norms: the lr of their block, both streams alike, no weight decay
    for m in (0, 1):
        assert got[f'backbone.backbone.stages.2.3.norm.norms.{m}.weight'] == \
            pytest.approx(got['backbone.backbone.stages.2.3.depthwise_conv.weight'][:2]
                          + (0.0, ))
        assert got[f'backbone.backbone.stages.1.0.norm.norms.{m}.bias'] == \
            pytest.approx(reference['backbone.stages.1.0.norm.bias'])
    if paramwise_cfg['decay_type'] == 'stage_wise':
        scale = got['backbone.backbone.stages.1.0.norm.norms.1.weight'][1]
        assert scale == pytest.approx(0.9**(6 + 2 - 2 - 1))  # stage 1 = id 2
    else:  # layer_wise: blocks 0-2 and 3 of stage 2 are different layers
        assert got['backbone.backbone.stages.2.0.norm.norms.1.weight'][0] < \
            got['backbone.backbone.stages.2.3.norm.norms.1.weight'][0]


def test_other_backbones_fail_clearly():
    mit = dict(type='MixVisionTransformer', in_channels=3, embed_dims=8,
               num_stages=2, num_layers=[1, 1], num_heads=[1, 1],
               patch_sizes=[7, 3], strides=[4, 2], sr_ratios=[2, 1],
               out_indices=(0, 1))
    cen = build(dict(type='MultiStreamBackbone', in_channels=(3, 1), backbone=mit))
    with pytest.raises(ValueError, match='MixVisionTransformer'):
        groups_by_param(cen, 'MultiStreamLayerDecayOptimizerConstructor',
                        dict(decay_rate=0.9, decay_type='stage_wise', num_layers=6))
