"""configs/cen/modern: the CEN configs on MiT-B2/-B5, Swin-T/-B and ConvNeXt-T/-B (RGB +
depth and RGB + HHA, NYUDv2 and SUN RGB-D) and their no-exchange baselines build,
exchange where documented, have identical parameters, and their optimizer settings
reach the right parameters (ConvNeXt: mmseg's stage-wise lr decay); one loss step of
the MiT-B2 model.
"""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope

from cen_mm.core import iter_exchanging_norms
from tests.fixtures.threads import single_thread  # noqa: F401 (autouse)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = osp.join(ROOT, 'configs', 'cen', 'modern')
# encoder -> (exchanging norms: 2 per MiT/Swin block, 1 per ConvNeXt block,
#            backbone parameters of one stream's network in millions); the larger
# encoders are mmseg's MiT-B5 / Swin-B and mmpretrain's ConvNeXt-B
ENCODERS_EXPECTED = {
    'segformer_mit-b2': (2 * (3 + 4 + 6 + 3), 24.2),
    'upernet_swin-t': (2 * (2 + 2 + 6 + 2), 27.5),
    'upernet_convnext-t': (3 + 3 + 9 + 3, 27.8),
    'segformer_mit-b5': (2 * (3 + 6 + 40 + 3), 81.4),
    'upernet_swin-b': (2 * (2 + 2 + 18 + 2), 86.7),
    'upernet_convnext-b': (3 + 3 + 27 + 3, 87.6),
}
# config stem -> expectation: every encoder on NYUDv2 (CMX's crops and batch) and SUN
# RGB-D (DFormer's crops and batch), RGB + raw depth and RGB + HHA
MODELS_EXPECTED = {
    f'cen_{encoder}_{data}': expected
    for encoder, expected in ENCODERS_EXPECTED.items()
    for data in ('nyud_rgbd', 'nyud_rgbhha', 'sunrgbd_rgbd', 'sunrgbd_rgbhha')}


def build(stem):
    from mmseg.registry import MODELS
    cfg = Config.fromfile(osp.join(CONFIGS, f'{stem}.py'))
    init_default_scope('mmseg')
    cfg.model.backbone.init_cfg = None  # no download in tests
    torch.manual_seed(0)
    return cfg, MODELS.build(cfg.model)


@pytest.mark.e2e  # builds full-size encoders: 1-7 s each
@pytest.mark.parametrize('stem', sorted(MODELS_EXPECTED))
def test_cen_config_and_its_baseline(stem):
    num_exchanging, backbone_m = MODELS_EXPECTED[stem]
    cfg, model = build(stem)
    assert cfg.model.backbone.in_channels == ((3, 3) if 'hha' in stem else (3, 1))
    assert len(cfg.model.data_preprocessor['mean']) == sum(
        cfg.model.backbone.in_channels)
    load = cfg.train_dataloader.dataset.pipeline[0]
    assert load['depth_type'] == ('hha' if 'hha' in stem else 'depth')
    sun = 'sunrgbd' in stem
    assert cfg.train_dataloader.dataset.type == ('SUNRGBDDataset' if sun else
                                                 'NYUDv2Dataset')
    assert cfg.train_dataloader.batch_size == (16 if sun else 8)
    assert cfg.model.data_preprocessor['size'] == ((480, 480) if sun else (480, 640))
    assert cfg.model.decode_head.num_classes == (37 if sun else 40)
    assert cfg.train_cfg.max_epochs == (300 if sun else 500)
    assert cfg.param_scheduler[-1]['end'] == cfg.train_cfg.max_epochs
    names = [n for n, _ in iter_exchanging_norms(model)]
    assert len(names) == num_exchanging
    shared = sum(p.numel() for n, p in model.backbone.named_parameters()
                 if '.norms.' not in n)
    private = sum(p.numel() for n, p in model.backbone.named_parameters()
                  if '.norms.1.' in n)  # one stream's norms
    assert (shared + private) / 1e6 == pytest.approx(backbone_m, abs=0.05)
    assert [h['type'] for h in cfg.custom_hooks] == ['CENSparsityHook',
                                                    'ExchangeStatsHook']

    base_cfg, baseline = build(f'{stem}_no-exchange')
    assert not list(iter_exchanging_norms(baseline))
    assert base_cfg.custom_hooks == []
    assert [(k, v.shape) for k, v in model.state_dict().items()] == \
        [(k, v.shape) for k, v in baseline.state_dict().items()]
    assert base_cfg.optim_wrapper == cfg.optim_wrapper

    # the optimizer: no weight decay on the private norms' γ (all three recipes)
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    decay, lr_scale = {}, {}
    for group in wrapper.optimizer.param_groups:
        for p in group['params']:
            decay[id(p)] = group['weight_decay']
            lr_scale[id(p)] = group.get('lr_scale', 1.0)
    norms = [norm for _, norm in iter_exchanging_norms(model)]
    assert all(decay[id(layer.weight)] == 0.0 for layer in norms[0].norms)
    if 'convnext' in stem:
        # mmseg's stage-wise lr decay (num_layers 6 for -T, 12 for -B): the last
        # stage's private norms 0.9**(num_layers + 2 - 4 - 1), the heads 1
        num_layers = 12 if 'convnext-b' in stem else 6
        assert cfg.optim_wrapper.paramwise_cfg == dict(
            decay_rate=0.9, decay_type='stage_wise', num_layers=num_layers)
        assert all(lr_scale[id(layer.weight)] == pytest.approx(
            0.9**(num_layers + 2 - 4 - 1)) for layer in norms[-1].norms)
        assert lr_scale[id(model.decode_head.conv_seg.weight)] == 1.0
        assert decay[id(model.decode_head.conv_seg.weight)] == 0.05


@pytest.mark.e2e
def test_mit_b2_config_loss_step():
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    _, model = build('cen_segformer_mit-b2_nyud_rgbd')
    model.init_weights()
    model.train()
    samples = []
    for _ in range(2):
        sample = SegDataSample()
        sample.gt_sem_seg = PixelData(data=torch.randint(0, 40, (1, 32, 32)))
        sample.set_metainfo(dict(img_shape=(32, 32), pad_shape=(32, 32)))
        samples.append(sample)
    losses = model.loss(torch.randn(2, 4, 32, 32), samples)
    assert {'s0.decode.loss_ce', 's1.decode.loss_ce', 'ens.decode.loss_ce'} <= set(losses)
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    # every stream's private LayerNorm of an exchanging layer receives a gradient
    _, norm = next(iter(iter_exchanging_norms(model)))
    assert all(layer.weight.grad is not None and layer.weight.grad.abs().sum() > 0
               for layer in norm.norms)
