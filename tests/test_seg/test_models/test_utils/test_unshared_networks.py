"""Issue #17 item 1: the "unshared" ablation rows are separate networks per modality,
decoder included (NeurIPS'20 Table 1 row 1 = the uni-modal baselines of Table 2,
118.1M parameters each), plus the learned ensemble."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmseg.registry import MODELS

import cen_mm  # noqa: F401
from cen_mm.seg.models.utils import StreamHeads
from tests.fixtures.tools import ROOT

ABLATION_DIR = osp.join(ROOT, 'configs', 'cen', 'ablations')
UNSHARED = sorted(glob.glob(osp.join(ABLATION_DIR, '*convs-unshared*.py')))
NUM_CLASSES = 5


def _count(module) -> int:
    return sum(p.numel() for p in module.parameters())


def _build_meta(cfg):
    with DefaultScope.overwrite_default_scope('mmseg'), torch.device('meta'):
        return MODELS.build(cfg.model)


def test_every_unshared_row_has_private_decoders():
    # row 1 of Table 1 and four rows of supp. Table 7 (= TPAMI'23 Table 1)
    assert len(UNSHARED) == 5
    for path in UNSHARED:
        cfg = Config.fromfile(path)
        assert cfg.model.backbone.shared_convs is False, path
        assert cfg.model.shared_heads is False, path


@pytest.mark.e2e
def test_unshared_row_is_two_uni_modal_networks_by_parameter_count():
    """2 x (one RefineNet-R101: 118.1M, paper Table 2) + the 2 ensemble weights."""
    row = 'refinenet_r101_nyud_convs-{}_l1-none_exchange-no.py'
    unshared = _build_meta(Config.fromfile(
        osp.join(ABLATION_DIR, row.format('unshared_bn-unshared'))))
    one = _build_meta(Config.fromfile(
        osp.join(ABLATION_DIR, row.format('shared_bn-shared'))))
    uni_modal = _count(one) - 2  # one network for both streams, minus alpha
    assert round(uni_modal / 1e6, 1) == 118.1
    assert _count(unshared) == 2 * uni_modal + 2
    assert round((_count(unshared) - 2) / 2e6, 1) == 118.1
    assert isinstance(unshared.decode_head, StreamHeads)
    assert len(unshared.decode_head.heads) == 2
    assert _count(unshared.decode_head) == 2 * _count(one.decode_head)
    assert _count(unshared.backbone) == 2 * _count(one.backbone)


# ---- behaviour on a tiny model ------------------------------------------------------
def _build_tiny(in_channels, backbone=(), **kwargs):
    """A CENEncoderDecoder on a tiny CENResNet-18 (``in_channels`` per stream, no
    exchange; more backbone options in ``backbone``) with a RefineNet head; ``kwargs``
    go to the segmentor."""
    cfg = dict(
        type='CENEncoderDecoder',
        backbone=dict(type='CENResNet', depth=18, in_channels=in_channels,
                      base_channels=8, stem_channels=8, norm_eval=False,
                      exchange=False, **dict(backbone)),
        decode_head=dict(type='RefineNetHead', in_channels=(8, 16, 32, 64),
                         stage_channels=(16, 8, 8, 8), num_classes=NUM_CLASSES,
                         dropout_ratio=0.0),
        train_cfg=dict(), test_cfg=dict(mode='whole'), **kwargs)
    with DefaultScope.overwrite_default_scope('mmseg'):
        return MODELS.build(cfg)


def _tiny(shared_heads, shared_convs=False, seed=0):
    torch.manual_seed(seed)
    model = _build_tiny((3, 1), shared_heads=shared_heads,
                        backbone=dict(shared_convs=shared_convs))
    model.init_weights()
    return model


def _x(seed=1):
    return torch.randn(2, 4, 32, 32, generator=torch.Generator().manual_seed(seed))


def test_stream_heads_are_private_copies():
    model = _tiny(shared_heads=False).eval()
    heads = model.decode_head.heads
    ids0 = {id(p) for p in heads[0].parameters()}
    assert not ids0 & {id(p) for p in heads[1].parameters()}
    x = _x()
    with torch.no_grad():
        before = model(x, mode='tensor')
        for p in heads[1].parameters():  # change stream 1's decoder only
            p.add_(0.1)
        after = model(x, mode='tensor')
    torch.testing.assert_close(before[0], after[0], rtol=0, atol=0)
    assert not torch.allclose(before[1], after[1])
    # stacked forward of the container = per-stream forward
    feats = model.extract_feat(x)
    with torch.no_grad():
        stacked = model.decode_head(feats.stacked)
    torch.testing.assert_close(stacked, torch.cat(after[:2]))


def test_unshared_streams_equal_two_independent_networks():
    """Stream m of the unshared model = a one-stream network holding stream m's
    encoder convs/BNs and decoder (its parameters copied by name)."""
    model = _tiny(shared_heads=False).eval()
    x = _x()
    with torch.no_grad():
        logits = model(x, mode='tensor')
    for m, (lo, hi) in enumerate(((0, 3), (3, 4))):
        ref = _single_stream_reference(model, m, in_channels=hi - lo).eval()
        with torch.no_grad():
            out = ref(x[:, lo:hi], mode='tensor')[0]
        torch.testing.assert_close(out, logits[m], rtol=1e-5, atol=1e-6)


def _single_stream_reference(model, m, in_channels):
    ref = _build_tiny((in_channels, ))
    source = model.state_dict()
    state = {}
    for key in ref.state_dict():
        if key == 'alpha':
            state[key] = torch.ones(1)
            continue
        if key.startswith('decode_head.'):
            src = key.replace('decode_head.', f'decode_head.heads.{m}.', 1)
        else:  # backbone: conv -> convs.{m}, norms.0 -> norms.{m}
            src = key.replace('.norms.0.', f'.norms.{m}.')
            if src.endswith('.weight') and src not in source:
                src = src[:-len('weight')] + f'convs.{m}.weight'
        tensor = source[src]
        if key == 'backbone.conv1.weight' and tensor.shape[1] != in_channels:
            # the unshared stem sees the depth tiled to 3 channels: sum = one channel
            tensor = tensor.sum(dim=1, keepdim=True)
        state[key] = tensor
    ref.load_state_dict(state)
    return ref


def test_loss_of_one_stream_does_not_reach_the_other_network():
    model = _tiny(shared_heads=False).train()
    feats = model.extract_feat(_x())
    logits = model._stream_logits(model.decode_head, feats).chunk(2)
    logits[0].sum().backward()
    for name, p in model.named_parameters():
        stream1 = name.startswith('decode_head.heads.1.') or (
            name.startswith('backbone.') and ('.convs.1.' in name
                                              or '.norms.1.' in name))
        if stream1:
            assert p.grad is None or not p.grad.any(), name
        elif name.startswith(('backbone.conv1.convs.0',
                              'decode_head.heads.0.conv_seg')):
            assert p.grad is not None and p.grad.any(), name


def test_shared_heads_default_shares_the_decoder():
    model = _tiny(shared_heads=True)
    assert not isinstance(model.decode_head, StreamHeads)
    bad = dict(type='CENEncoderDecoder', head_norms='both',
               backbone=dict(type='CENResNet', depth=18),
               decode_head=dict(type='RefineNetHead', num_classes=2))
    with pytest.raises(ValueError, match='head_norms'), \
            DefaultScope.overwrite_default_scope('mmseg'):
        MODELS.build(bad)
