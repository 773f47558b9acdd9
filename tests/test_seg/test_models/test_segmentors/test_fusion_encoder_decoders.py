"""FusionEncoderDecoder / FusionCENEncoderDecoder: the backbone's fusion losses
(``loss_align``) join the head losses; single vs per-stream predictions."""
import pytest
import torch
from mmengine.config import ConfigDict
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

import cen_mm  # noqa: F401

NUM_CLASSES = 4
SIZE = 32
HEAD = dict(type='RefineNetHead', in_channels=(8, 16, 32, 64),
            stage_channels=(16, 8, 8, 8), num_classes=NUM_CLASSES,
            loss_decode=dict(type='CrossEntropyLoss', avg_non_ignore=True))
BACKBONE = dict(depth=18, in_channels=(3, 1), base_channels=8, stem_channels=8,
                exchange=False)


def _batch(n=2):
    g = torch.Generator().manual_seed(1)
    x = torch.randn(n, 4, SIZE, SIZE, generator=g)
    samples = []
    for i in range(n):
        s = SegDataSample(metainfo=dict(img_shape=(SIZE, SIZE), ori_shape=(SIZE, SIZE),
                                        pad_shape=(SIZE, SIZE),
                                        padding_size=[0, 0, 0, 0]))
        s.gt_sem_seg = PixelData(data=torch.randint(0, NUM_CLASSES, (1, SIZE, SIZE),
                                                    generator=g))
        samples.append(s)
    return x, samples


def _build(fusion, fusion_stages, segmentor='FusionEncoderDecoder',
           backbone='FusionResNet', **kwargs):
    """``segmentor`` on a ``backbone`` (tiny ResNet) fusing by ``fusion`` (a fusion
    type) at ``fusion_stages``; seeded."""
    torch.manual_seed(0)
    backbone = dict(BACKBONE, type=backbone, fusion=dict(type=fusion),
                    fusion_stages=fusion_stages)
    return MODELS.build(dict(type=segmentor, backbone=backbone,
                             decode_head=HEAD, train_cfg=dict(),
                             test_cfg=ConfigDict(mode='whole'), **kwargs))


def test_cen_segmentor_adds_the_align_loss_of_its_backbone():
    model = _build('AlignFusion', 'middle', segmentor='FusionCENEncoderDecoder',
                   backbone='StageFusionCENResNet')
    x, samples = _batch()
    losses = model.loss(x, samples)
    assert 's0.decode.loss_ce' in losses and 'ens.decode.loss_ce' in losses
    torch.testing.assert_close(losses['loss_align'],
                               model.backbone.fusions['2'].last_loss)
    assert losses['loss_align'].item() > 0
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    assert model.backbone.fusions['2'].common[1].weight.grad.abs().sum() > 0


def test_single_prediction_segmentor_with_fusion_resnet():
    model = _build('ConcatFusion', 'early')
    x, samples = _batch()
    losses = model.loss(x, samples)
    assert losses['decode.loss_ce'].item() > 0
    assert 'loss_align' not in losses
    model.eval()
    logits = model(x, mode='tensor')
    assert logits.shape == (2, NUM_CLASSES, SIZE // 4, SIZE // 4)
    preds = model.predict(x, samples)
    assert preds[0].pred_sem_seg.data.shape == (1, SIZE, SIZE)


def test_align_loss_in_the_single_prediction_segmentor():
    model = _build('AlignFusion', 'all')
    x, samples = _batch()
    losses = model.loss(x, samples)
    expected = sum(b.last_loss for b in model.backbone.fusions.values())
    torch.testing.assert_close(losses['loss_align'], expected)


def test_colliding_loss_names_are_reported():
    model = _build('ConcatFusion', 'early')
    model.backbone.fusion_losses = lambda: {'decode.loss_ce': torch.zeros(())}
    with pytest.raises(KeyError, match="backbone loss 'decode.loss_ce'"):
        model.loss(*_batch())
