"""RefineNetHead: shapes, official forward semantics, use as a plain mmseg head."""
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.config import ConfigDict
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

import cen_mm  # noqa: F401
from cen_mm.seg.models.decode_heads.refinenet_head import RCUBlock, RefineNetHead

IN_CHANNELS = (8, 16, 32, 64)
STAGE_CHANNELS = (16, 8, 8, 8)
NUM_CLASSES = 5


def _head(**kwargs):
    cfg = dict(type='RefineNetHead', in_channels=IN_CHANNELS,
               stage_channels=STAGE_CHANNELS, num_classes=NUM_CLASSES)
    cfg.update(kwargs)
    return MODELS.build(cfg)


def _inputs(n=2, size=32):
    torch.manual_seed(0)
    return tuple(torch.randn(n, c, size >> i, size >> i)
                 for i, c in enumerate(IN_CHANNELS))


def _official_style_forward(head: RefineNetHead, feats):
    """Reference written like the official CEN decoder: functional convs on the head's
    weights, in-place ReLUs (so an RCU's residual is the activated input), bilinear
    upsampling with align_corners=True, eval mode (no dropout)."""
    sd = head.state_dict()

    def conv(x, name):
        return F.conv2d(x, sd[name + '.weight'], sd.get(name + '.bias'), padding=1)

    def rcu(x, prefix, num_blocks):
        for b in range(num_blocks):
            residual = x
            x = x.relu_()  # in place: modifies `residual` too, as in the official code
            x = conv(x, f'{prefix}.blocks.{b}.conv1').relu_()
            x = conv(x, f'{prefix}.blocks.{b}.conv2')
            x = x + residual
        return x

    def crp(x, prefix):
        top = x
        for i in range(4):
            top = conv(F.max_pool2d(top, 5, 1, 2), f'{prefix}.convs.{i}')
            x = x + top
        return x

    l1, l2, l3, l4 = [f.clone() for f in feats]
    x = rcu(conv(l4, 'stages.0.dimred'), 'stages.0.adapt', 2).relu_()
    x = conv(rcu(crp(x, 'stages.0.crp'), 'stages.0.fuse', 3), 'stages.0.out_conv')
    for s, low in ((1, l3), (2, l2), (3, l1)):
        x = F.interpolate(x, size=low.shape[2:], mode='bilinear', align_corners=True)
        y = rcu(conv(low, f'stages.{s}.dimred'), f'stages.{s}.adapt', 2)
        y = (conv(y, f'stages.{s}.adapt_out') + x).relu_()
        x = rcu(crp(y, f'stages.{s}.crp'), f'stages.{s}.fuse', 3)
        if s < 3:
            x = conv(x, f'stages.{s}.out_conv')
    return conv(x, 'conv_seg')


def test_shapes_and_structure():
    head = _head()
    out = head(_inputs(n=2, size=32))
    assert out.shape == (2, NUM_CLASSES, 32, 32)  # resolution of the finest level
    # light-weight RefineNet: no norm layers at all
    assert not any(isinstance(m, (nn.modules.batchnorm._NormBase, nn.GroupNorm,
                                  nn.LayerNorm)) for m in head.modules())
    assert isinstance(head.dropout, nn.Dropout) and head.dropout.p == 0.5
    assert head.conv_seg.kernel_size == (3, 3) and head.conv_seg.bias is not None
    assert len(head.stages[0].crp.convs) == 4
    # official widths: deepest stage 512 -> here 16, then 8; 2 + 3 RCU blocks
    assert head.stages[0].dimred.weight.shape == (16, 64, 3, 3)
    assert head.stages[0].out_conv.weight.shape == (8, 16, 3, 3)
    assert head.stages[0].adapt_out is None and head.stages[3].out_conv is None
    assert [len(s.adapt.blocks) for s in head.stages] == [2] * 4
    assert [len(s.fuse.blocks) for s in head.stages] == [3] * 4


def test_matches_official_style_reference():
    head = _head().eval()
    feats = _inputs(n=2, size=32)
    with torch.no_grad():
        ours = head(feats)
        ref = _official_style_forward(head, feats)
    torch.testing.assert_close(ours, ref, rtol=1e-5, atol=1e-5)


def test_rcu_residual_is_activated_input():
    rcu = RCUBlock(4, 4, num_blocks=1)
    for p in rcu.parameters():
        nn.init.zeros_(p)
    x = torch.randn(1, 4, 5, 5)
    # convs output 0, so the block returns its residual: relu(x), not x
    torch.testing.assert_close(rcu(x), x.relu())


def test_dropout_only_in_training():
    head = _head()
    feats = _inputs(n=1, size=16)
    head.train()
    a, b = head(feats), head(feats)
    assert not torch.allclose(a, b)
    head.eval()
    torch.testing.assert_close(head(feats), head(feats))


def test_bad_config_errors():
    with pytest.raises(ValueError, match='norm'):
        _head(norm_cfg=dict(type='BN'))
    with pytest.raises(ValueError, match='stage'):
        _head(stage_channels=(16, 8, 8))
    with pytest.raises(ValueError, match='stage_channels'):
        _head(channels=8)


def test_single_stream_encoder_decoder():
    """The head works in mmseg's stock EncoderDecoder with a stock ResNet."""
    model = MODELS.build(
        ConfigDict(type='EncoderDecoder',
             backbone=dict(type='ResNet', depth=18, base_channels=8,
                           stem_channels=8, out_indices=(0, 1, 2, 3)),
             decode_head=dict(type='RefineNetHead', in_channels=IN_CHANNELS,
                              stage_channels=STAGE_CHANNELS,
                              num_classes=NUM_CLASSES,
                              loss_decode=dict(type='CrossEntropyLoss',
                                               avg_non_ignore=True)),
             train_cfg=dict(), test_cfg=dict(mode='whole'))).eval()
    torch.manual_seed(1)
    x = torch.randn(2, 3, 64, 64)
    gt = torch.randint(0, NUM_CLASSES, (2, 1, 64, 64))
    gt[:, :, :8] = 255
    samples = []
    for i in range(2):
        s = SegDataSample(metainfo=dict(img_shape=(64, 64), ori_shape=(64, 64),
                                        pad_shape=(64, 64)))
        s.gt_sem_seg = PixelData(data=gt[i])
        samples.append(s)
    with torch.no_grad():
        logits = model(x, mode='tensor')
        losses = model(x, samples, mode='loss')
        preds = model(x, samples, mode='predict')
    assert logits.shape == (2, NUM_CLASSES, 16, 16)
    up = F.interpolate(logits, size=(64, 64), mode='bilinear', align_corners=False)
    expected = F.cross_entropy(up, gt[:, 0], ignore_index=255)
    torch.testing.assert_close(losses['decode.loss_ce'], expected)
    torch.testing.assert_close(preds[1].seg_logits.data, up[1])
    assert torch.equal(preds[1].pred_sem_seg.data[0], up[1].argmax(0))
