"""Issue #17 item 2: the PSPNet heads' norm layers are private per stream (the papers
share everything except the norms), unless a config asks for shared ones."""
import copy
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmseg.registry import MODELS

import cen_mm  # noqa: F401
from cen_mm.seg.models.utils import PrivateStreamNorm
from tests.fixtures.tools import ROOT

PSP_CONFIGS = ['pspnet_r101_nyud', 'pspnet_r152_nyud', 'pspnet_r152_sunrgbd']
BN = dict(type='BN', requires_grad=True)


@pytest.mark.parametrize('name', PSP_CONFIGS)
def test_paper_psp_configs_build_private_head_norms(name):
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'cen', name + '.py'))
    assert cfg.model.get('head_norms', 'private') == 'private'
    with DefaultScope.overwrite_default_scope('mmseg'), torch.device('meta'):
        model = MODELS.build(cfg.model)
    for head in (model.decode_head, model.auxiliary_head):
        norms = [m for m in head.modules() if isinstance(m, PrivateStreamNorm)]
        bare = [m for m in head.modules() if isinstance(m, torch.nn.BatchNorm2d)]
        assert norms, type(head).__name__
        assert all(len(n.norms) == 2 and not n.exchange for n in norms)
        # every BN of the head belongs to one stream's private set
        assert len(bare) == 2 * len(norms)
    # PSPHead: 4 pyramid branches + bottleneck; FCNHead: 1 conv
    assert len([m for m in model.decode_head.modules()
                if isinstance(m, PrivateStreamNorm)]) == 5


def _psp(head_norms='private', seed=0):
    torch.manual_seed(seed)
    cfg = dict(
        type='CENEncoderDecoder', head_norms=head_norms,
        backbone=dict(type='CENResNet', depth=18, in_channels=(3, 1), base_channels=8,
                      stem_channels=8, norm_eval=True, exchange=False,
                      strides=(1, 2, 1, 1), dilations=(1, 1, 2, 4),
                      contract_dilation=True),
        decode_head=dict(type='PSPHead', in_channels=64, in_index=3, channels=8,
                         pool_scales=(1, 2, 3, 6), dropout_ratio=0.0, num_classes=5,
                         norm_cfg=BN, align_corners=False),
        auxiliary_head=dict(type='FCNHead', in_channels=32, in_index=2, channels=8,
                            num_convs=1, concat_input=False, dropout_ratio=0.0,
                            num_classes=5, norm_cfg=BN, align_corners=False),
        train_cfg=dict(), test_cfg=dict(mode='whole'))
    with DefaultScope.overwrite_default_scope('mmseg'):
        model = MODELS.build(cfg)
    model.init_weights()
    return model


def _inputs(seed=1):
    x = torch.randn(3, 4, 24, 24, generator=torch.Generator().manual_seed(seed))
    x2 = x.clone()
    x2[:, 3:] = 2.0 * x2[:, 3:] + 1.0  # only the depth stream changes
    return x, x2


def _head_bn_stats(model):
    """{name: (running_mean, running_var)} of every BN in the heads."""
    return {name: (m.running_mean.clone(), m.running_var.clone())
            for name, m in model.named_modules()
            if isinstance(m, torch.nn.BatchNorm2d) and 'head' in name}


def _train_forward(model, x):
    model = copy.deepcopy(model).train()
    feats = model.extract_feat(x)
    with torch.no_grad():
        logits = model._stream_logits(model.decode_head, feats).chunk(2)
        aux = model._stream_logits(model.auxiliary_head, feats).chunk(2)
    return model, logits, aux


def test_head_statistics_of_a_stream_ignore_the_other_stream():
    model = _psp('private')
    x, x2 = _inputs()
    a, logits_a, aux_a = _train_forward(model, x)
    b, logits_b, aux_b = _train_forward(model, x2)
    stats_a, stats_b = _head_bn_stats(a), _head_bn_stats(b)
    assert any(k.endswith('.norms.0') for k in stats_a)
    assert any(k.endswith('.norms.1') for k in stats_a)
    for key in stats_a:
        same = all(torch.equal(u, v) for u, v in zip(stats_a[key], stats_b[key]))
        # stream 0's running statistics do not see stream 1's input; stream 1's do
        assert same == key.endswith('.norms.0'), key
    # training-mode outputs (batch statistics) of stream 0 are unchanged as well
    torch.testing.assert_close(logits_a[0], logits_b[0], rtol=0, atol=0)
    torch.testing.assert_close(aux_a[0], aux_b[0], rtol=0, atol=0)
    assert not torch.allclose(logits_a[1], logits_b[1])


def test_shared_head_norms_option_mixes_the_streams():
    """head_norms='shared' (pre-#17 behaviour, kept as an option): one BN over both
    streams' samples, so stream 0's statistics and outputs depend on stream 1."""
    model = _psp('shared')
    assert not any(isinstance(m, PrivateStreamNorm) for m in model.modules())
    x, x2 = _inputs()
    a, logits_a, _ = _train_forward(model, x)
    b, logits_b, _ = _train_forward(model, x2)
    stats_a, stats_b = _head_bn_stats(a), _head_bn_stats(b)
    assert any(not torch.equal(stats_a[k][0], stats_b[k][0]) for k in stats_a)
    assert not torch.allclose(logits_a[0], logits_b[0])


def _reference_head(cfg_head, private_head, stream):
    """A stock single-stream head holding the shared convs and stream's norms."""
    with DefaultScope.overwrite_default_scope('mmseg'):
        ref = MODELS.build(cfg_head)
    state = {}
    source = private_head.state_dict()
    for key in ref.state_dict():
        src = key.replace('.bn.', f'.norm_layer.norms.{stream}.')
        state[key] = source[src]
    ref.load_state_dict(state)
    return ref


@pytest.mark.parametrize('train', [True, False])
def test_per_stream_outputs_equal_a_stock_single_stream_head(train):
    model = _psp('private')
    with torch.no_grad():  # distinct per-stream norm parameters and statistics
        for m in model.modules():
            if isinstance(m, PrivateStreamNorm):
                for s, bn in enumerate(m.norms):
                    bn.weight.normal_(1.0, 0.2)
                    bn.bias.normal_(0.0, 0.2)
                    bn.running_mean.normal_(0.0, 0.1)
                    bn.running_var.uniform_(0.5, 1.5)
    model.train(train)
    x, _ = _inputs()
    feats = model.extract_feat(x)
    cfg = dict(type='PSPHead', in_channels=64, in_index=3, channels=8,
               pool_scales=(1, 2, 3, 6), dropout_ratio=0.0, num_classes=5,
               norm_cfg=BN, align_corners=False)
    refs = [_reference_head(cfg, model.decode_head, m).train(train) for m in (0, 1)]
    with torch.no_grad():
        logits = model._stream_logits(model.decode_head, feats).chunk(2)
        expected = [refs[m](tuple(feats[m])) for m in (0, 1)]
    for m in (0, 1):
        torch.testing.assert_close(logits[m], expected[m], rtol=1e-5, atol=1e-6)
    if train:  # running statistics: stream m's layer = the reference's
        ours = _head_bn_stats(model)
        for m in (0, 1):
            for name, mod in refs[m].named_modules():
                if isinstance(mod, torch.nn.BatchNorm2d):
                    key = 'decode_head.' + name.replace('bn', f'norm_layer.norms.{m}')
                    torch.testing.assert_close(ours[key][0], mod.running_mean)
    # a single stream asked for alone (test_cfg.output=m) gets its own norms too
    model.eval()
    with torch.no_grad():
        alone = model._one_stream_logits(model.decode_head, feats, 1)
        both = model._stream_logits(model.decode_head, feats).chunk(2)[1]
    torch.testing.assert_close(alone, both)


def test_private_stream_norm_as_mmcv_norm_cfg():
    from mmcv.cnn import build_norm_layer
    name, layer = build_norm_layer(
        dict(type='PrivateStreamNorm', num_streams=3, norm_cfg=dict(type='BN'),
             requires_grad=False), 6)
    assert name == 'norm_layer' and isinstance(layer, PrivateStreamNorm)
    assert len(layer.norms) == 3 and layer.norms[0].eps == 1e-5
    assert not any(p.requires_grad for p in layer.parameters())
    with pytest.raises(ValueError, match='ordinary norm layer'):
        PrivateStreamNorm(4, 2, norm_cfg=dict(type='PrivateStreamNorm'))
