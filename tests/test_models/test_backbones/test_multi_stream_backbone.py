"""MultiStreamBackbone: any OpenMMLab backbone as a CEN over M modalities.

Exactness for every supported family (mmseg ResNetV1c, MixVisionTransformer,
SwinTransformer; mmpretrain ConvNeXt), tiny widths:

* exchange off: stream m's features equal the stock backbone's on stream m's input,
  with stream m's weights (shared layers + its private norms);
* exchange on: equal M stock backbones run side by side as a plain per-stream loop
  that exchanges at the same norms through forward hooks (a mean over the other
  streams written out per channel, with a threshold mask computed here);
* ResNet: the wrapper reproduces CENResNet exactly with the same weights.

Plus inflation from single-stream checkpoints, hooks' view of the layers, norm_eval,
SyncBN conversion, the exchange-layer pattern and the errors.
"""
import re
import threading

import pytest
import torch
import torch.nn as nn
from mmengine.registry import MODELS
from torch.nn.modules.batchnorm import _BatchNorm

from cen_mm.core import ModalityNorm, iter_exchanging_norms
from cen_mm.core.modality_layer_norm import ModalityLayerNorm
from cen_mm.models.backbones import (CENResNet, CheckpointInflationError,
                                     MultiStreamBackbone)
from tests.fixtures.threads import single_thread  # noqa: F401 (autouse)

ATOL = 1e-5
THETA = 2e-2

FAMILIES = {
    'resnet_basic': dict(type='mmseg.ResNetV1c', depth=18, stem_channels=8,
                         base_channels=8, num_stages=2, strides=(1, 2),
                         dilations=(1, 1), out_indices=(0, 1)),
    'resnet_bottleneck': dict(type='mmseg.ResNetV1c', depth=50, stem_channels=8,
                              base_channels=4, num_stages=2, strides=(1, 2),
                              dilations=(1, 1), out_indices=(0, 1)),
    'mit': dict(type='mmseg.MixVisionTransformer', embed_dims=8, num_stages=2,
                num_layers=[1, 1], num_heads=[1, 2], patch_sizes=[7, 3],
                strides=[4, 2], sr_ratios=[2, 1], out_indices=(0, 1)),
    'swin': dict(type='mmseg.SwinTransformer', embed_dims=8, depths=(2, 1),
                 num_heads=(1, 2), window_size=2, strides=(4, 2), out_indices=(0, 1),
                 pretrain_img_size=32),
    'convnext': dict(type='mmpretrain.ConvNeXt', arch=dict(depths=[1, 1],
                                                           channels=[8, 16]),
                     out_indices=(0, 1), gap_before_final_norm=False,
                     layer_scale_init_value=1.0),  # (1e-6 would hide the blocks)
}
# default exchanging norms per family (names inside the backbone)
EXPECTED_EXCHANGE = {
    'resnet_basic': r'layer\d\.\d\.bn[12]',
    'resnet_bottleneck': r'layer\d\.\d\.bn2',
    'mit': r'layers\.\d\.1\.\d\.norm[12]',
    'swin': r'stages\.\d\.blocks\.\d\.norm[12]',
    'convnext': r'stages\.\d\.\d\.norm',
}
IN_CHANNELS = (3, 1)  # RGB + depth, depth tiled to 3 channels


# ---- helpers -----------------------------------------------------------------------
def build(family, **kwargs):
    kwargs.setdefault('in_channels', IN_CHANNELS)
    torch.manual_seed(0)
    model = MODELS.build(dict(type='MultiStreamBackbone', backbone=FAMILIES[family],
                              **kwargs))
    model.init_weights()
    return model


def randomize_norms(model, seed=0, small=None):
    """Different random affine parameters / BN statistics in every private norm copy
    (|γ| in [0.5, 1.5]). ``small``: fraction of each exchanging norm's channels whose
    γ is set below θ (random channels, every stream), so some are exchanged."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if not isinstance(module, ModalityNorm):
                continue
            for layer in module.norms:
                c = layer.weight.numel()
                layer.weight.copy_((0.5 + torch.rand(c, generator=g)) *
                                   torch.sign(torch.rand(c, generator=g) - 0.2))
                layer.bias.copy_(0.4 * torch.rand(c, generator=g) - 0.2)
                if isinstance(layer, _BatchNorm):
                    layer.running_mean.copy_(0.4 * torch.rand(c, generator=g) - 0.2)
                    layer.running_var.copy_(0.5 + torch.rand(c, generator=g))
                if small and module.exchange:
                    idx = torch.rand(c, generator=g) < small
                    layer.weight[idx] = 0.01 * (torch.rand(int(idx.sum()),
                                                           generator=g) - 0.5)
    return model


def stream_state_dict(model, m):
    """Stream m's single-stream state dict of the inner backbone."""
    out = {}
    for key, value in model.backbone.state_dict().items():
        match = re.search(r'\.norms\.(\d+)\.', key)
        if match is None:
            out[key] = value
        elif int(match.group(1)) == m:
            out[key[:match.start()] + '.' + key[match.end():]] = value
    return out


def stock_backbone(family, state_dict):
    cfg = dict(FAMILIES[family], in_channels=3)
    model = MODELS.build(cfg)
    model.load_state_dict(state_dict, strict=True)
    model.eval()  # (mmpretrain's ConvNeXt.train returns None)
    return model


def stream_inputs(x):
    """(N, 4, H, W) RGB + depth -> the two per-stream (N, 3, H, W) inputs."""
    return [x[:, :3], x[:, 3:].repeat(1, 3, 1, 1)]


def channel_axis(module, kwargs):
    if isinstance(module, _BatchNorm):
        return 1
    if kwargs.get('data_format') == 'channel_first':
        return 1
    return -1


def lockstep_reference(family, model, x, exchanging_names):
    """M stock backbones, one per stream (its own weights), run in M threads that meet
    at every exchanging norm: there each replaces its channels c with |γ_m[c]| < θ in
    its own sub-part by the mean over the other streams' post-norm channel c."""
    M = model.num_streams
    stocks = [stock_backbone(family, stream_state_dict(model, m)) for m in range(M)]
    barrier = threading.Barrier(M, timeout=60)
    posted = {}

    def make_hook(m, name):
        def hook(module, args, kwargs, output):
            C = module.weight.numel()
            owner = torch.zeros(C, dtype=torch.bool)
            owner[m * C // M:(m + 1) * C // M] = True
            replaced = (module.weight.detach().abs() < THETA) & owner
            posted[(name, m)] = output
            barrier.wait()
            axis = channel_axis(module, kwargs)
            new = output.clone()
            for c in torch.nonzero(replaced).flatten().tolist():
                values = [posted[(name, k)].select(axis, c) for k in range(M) if k != m]
                new.select(axis, c).copy_(sum(values) / len(values))
            barrier.wait()  # everyone has read `posted` before a later call rewrites it
            return new
        return hook

    for m, stock in enumerate(stocks):
        for name, module in stock.named_modules():
            if name in exchanging_names:
                module.register_forward_hook(make_hook(m, name), with_kwargs=True)
    results, errors = [None] * M, []

    def run(m, inp):
        try:
            with torch.no_grad():
                results[m] = stocks[m](inp)
        except BaseException as e:  # noqa: B902 (reported below)
            errors.append(e)
            barrier.abort()

    threads = [threading.Thread(target=run, args=(m, inp))
               for m, inp in enumerate(stream_inputs(x))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return results


def assert_streams_close(out, refs):
    assert len(out) == len(refs)
    for feats, ref in zip(out, refs):
        assert len(feats) == len(ref)
        for a, b in zip(feats, ref):
            assert a.shape == b.shape
            torch.testing.assert_close(a, b, atol=ATOL, rtol=1e-4)


# ---- exactness -----------------------------------------------------------------------
@pytest.mark.parametrize('family', sorted(FAMILIES))
def test_exchange_off_equals_stock_backbone_per_stream(family):
    model = randomize_norms(build(family, exchange=False)).eval()
    x = torch.randn(2, 4, 32, 32)
    with torch.no_grad():
        out = model(x)
    refs = []
    for m, inp in enumerate(stream_inputs(x)):
        with torch.no_grad():
            refs.append(stock_backbone(family, stream_state_dict(model, m))(inp))
    assert_streams_close(out, refs)
    # the streams really differ (private norms, different inputs)
    assert not torch.allclose(out[0][-1], out[1][-1], atol=1e-3)


@pytest.mark.parametrize('family', sorted(FAMILIES))
def test_exchange_on_equals_per_stream_reference_loop(family):
    model = randomize_norms(build(family), small=0.4).eval()
    names = set(model.exchanging_norm_names)
    # the family default places the exchange where documented, and only there
    all_norms = [n for n, m in model.backbone.named_modules()
                 if isinstance(m, ModalityNorm)]
    assert names == {n for n in all_norms if re.fullmatch(EXPECTED_EXCHANGE[family], n)}
    assert names and len(names) < len(all_norms)
    replaced = sum(int(mod.exchange_mask().sum())
                   for _, mod in iter_exchanging_norms(model))
    assert replaced > 0
    x = torch.randn(2, 4, 32, 32)
    with torch.no_grad():
        out = model(x)
        plain = build(family, exchange=False)
        plain.load_state_dict(model.state_dict(), strict=True)
        plain = plain.eval()(x)
    assert_streams_close(out, lockstep_reference(family, model, x, names))
    # and exchanging changed the features (same weights without exchange differ)
    for m in range(2):
        assert not torch.allclose(out[m][-1], plain[m][-1], atol=1e-3)


@pytest.mark.parametrize('depth', [18, 50])
@pytest.mark.parametrize('train', [False, True])
def test_resnet_wrapper_reproduces_cen_resnet(depth, train):
    family = 'resnet_basic' if depth == 18 else 'resnet_bottleneck'
    cfg = FAMILIES[family]
    cen = CENResNet(depth=depth, in_channels=IN_CHANNELS, deep_stem=True,
                    stem_channels=cfg['stem_channels'],
                    base_channels=cfg['base_channels'], num_stages=2, strides=(1, 2),
                    dilations=(1, 1), out_indices=(0, 1), exchange=True)
    cen.init_weights()
    randomize_norms(cen, small=0.4)
    model = build(family)
    # same keys: the wrapper's inner backbone takes CENResNet's state dict strictly
    model.backbone.load_state_dict(cen.state_dict(), strict=True)
    assert ([n for n, _ in iter_exchanging_norms(cen)] ==
            [n[len('backbone.'):] for n, _ in iter_exchanging_norms(model)])
    cen.train(train)
    model.train(train)
    x = torch.randn(2, 4, 32, 32)
    out_cen, out = cen(x), model(x)
    assert_streams_close(out, out_cen)
    if train:  # gradients through the exchange agree too
        sum(f.square().sum() for s in out for f in s).backward()
        sum(f.square().sum() for s in out_cen for f in s).backward()
        grads = dict(cen.named_parameters())
        for name, p in model.backbone.named_parameters():
            torch.testing.assert_close(p.grad, grads[name].grad, atol=1e-4, rtol=1e-4)


def test_layer_norm_exchange_gradient_matches_reference():
    """ModalityLayerNorm (channel last): values and gradients (input, every stream's
    weight and bias) of the per-stream LN + exchange against F.layer_norm per stream
    and a hand-written exchange."""
    torch.manual_seed(0)
    norm = ModalityLayerNorm(6, 2, exchange=True, threshold=THETA)
    with torch.no_grad():
        norm.norms[0].weight.copy_(torch.tensor([0.01, 1.0, 0.5, 1.0, 1.0, 0.0]))
        norm.norms[1].weight.copy_(torch.tensor([0.0, 1.0, 1.0, 0.001, 2.0, 1.0]))
    x = torch.randn(4, 5, 6, requires_grad=True)  # (M*N, L, C)
    y = norm(x)
    ref_in = x.detach().clone().requires_grad_(True)
    ref_params = [p.detach().clone().requires_grad_(True) for n in norm.norms
                  for p in (n.weight, n.bias)]
    a = nn.functional.layer_norm(ref_in[:2], (6, ), *ref_params[:2])
    b = nn.functional.layer_norm(ref_in[2:], (6, ), *ref_params[2:])
    # stream 0 owns channels 0-2 (γ 0.01 < θ at 0), stream 1 owns 3-5 (0.001 at 3)
    a2 = torch.cat([b[..., :1], a[..., 1:]], dim=-1)
    b2 = torch.cat([b[..., :3], a[..., 3:4], b[..., 4:]], dim=-1)
    ref = torch.cat([a2, b2])
    torch.testing.assert_close(y.detach(), ref.detach())
    w = torch.randn_like(ref)
    (y * w).sum().backward()
    (ref * w).sum().backward()
    torch.testing.assert_close(x.grad, ref_in.grad)
    for p, ref_p in zip([p for n in norm.norms for p in (n.weight, n.bias)],
                        ref_params):
        torch.testing.assert_close(p.grad, ref_p.grad)


# ---- hooks, modes, conversion ------------------------------------------------------
@pytest.mark.parametrize('family', ['mit', 'convnext'])
def test_hooks_find_layer_norms(family):
    from cen_mm.engine.hooks.sparsity_hook import penalized_gammas
    model = build(family)
    found = [n for n, _ in iter_exchanging_norms(model)]
    assert found == ['backbone.' + n for n in model.exchanging_norm_names]
    assert all(isinstance(m, ModalityLayerNorm) for _, m in iter_exchanging_norms(model))
    entries = penalized_gammas(model, 1e-3)
    # one entry per (layer, stream) with the LN weight of that stream
    assert len(entries) == 2 * len(found)
    params = {id(p) for p in model.parameters()}
    assert all(id(e.param) in params for e in entries)


def test_exchange_layers_pattern_overrides_default():
    model = build('mit', exchange_layers=r'layers\.\d+\.1\.\d+\.norm1')
    assert model.exchanging_norm_names == ('layers.0.1.0.norm1', 'layers.1.1.0.norm1')
    with pytest.raises(ValueError, match='matches no norm layer'):
        build('mit', exchange_layers=r'nothing')


def test_unknown_family_needs_a_pattern():
    cfg = dict(type='mmpretrain.MobileNetV2', widen_factor=0.25, out_indices=(1, ))
    with pytest.raises(ValueError, match='no default exchanging norms'):
        MultiStreamBackbone(backbone=cfg)
    model = MultiStreamBackbone(backbone=cfg, exchange_layers=r'layer1\.0\.conv\.0\.bn')
    assert model.exchanging_norm_names == ('layer1.0.conv.0.bn', )


def test_wrong_input_and_in_channels_errors():
    model = build('swin')
    with pytest.raises(ValueError, match=r'expects \(N, 4, H, W\)'):
        model(torch.randn(1, 3, 32, 32))
    with pytest.raises(ValueError, match='leave\nbackbone.in_channels out|leave '
                       'backbone.in_channels out'):
        MultiStreamBackbone(backbone=dict(FAMILIES['swin'], in_channels=4))


def test_norm_eval_and_sync_bn_conversion():
    model = build('resnet_basic', norm_eval=True).train()
    bns = [m for m in model.modules() if isinstance(m, _BatchNorm)]
    assert bns and not any(m.training for m in bns)
    keys = list(model.state_dict())
    converted = nn.SyncBatchNorm.convert_sync_batchnorm(build('resnet_basic'))
    assert list(converted.state_dict()) == keys
    assert all(isinstance(m, nn.SyncBatchNorm)
               for mod in converted.modules() if isinstance(mod, ModalityNorm)
               for m in mod.norms)


def test_baseline_has_same_parameters_as_cen():
    cen, base = build('swin'), build('swin', exchange=False)
    assert [(k, v.shape) for k, v in cen.state_dict().items()] == \
        [(k, v.shape) for k, v in base.state_dict().items()]
    assert not list(iter_exchanging_norms(base))


# ---- inflation -----------------------------------------------------------------------
@pytest.mark.parametrize('family', ['mit', 'convnext'])
def test_inflation_from_single_stream_checkpoint(family, tmp_path):
    torch.manual_seed(1)
    stock = MODELS.build(dict(FAMILIES[family], in_channels=3))
    with torch.no_grad():
        for p in stock.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    # a whole-model checkpoint (mmpretrain / mmseg layout: backbone. + head keys)
    state = {f'backbone.{k}': v for k, v in stock.state_dict().items()}
    state['head.fc.weight'] = torch.zeros(3, 3)
    path = tmp_path / 'single.pth'
    torch.save(dict(state_dict=state), path)
    model = build(family, init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    for m in range(2):
        sd = stream_state_dict(model, m)
        for k, v in stock.state_dict().items():
            assert torch.equal(sd[k], v), k
    # the inner backbone's own Pretrained init_cfg is taken over (strict) as well
    cfg = dict(FAMILIES[family],
               init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    torch.manual_seed(0)
    inner = MultiStreamBackbone(backbone=cfg)
    inner.init_weights()
    assert torch.equal(inner.state_dict()[next(iter(model.state_dict()))],
                       model.state_dict()[next(iter(model.state_dict()))])


def test_inflation_strict_report_and_missing_ok(tmp_path):
    stock = MODELS.build(dict(FAMILIES['convnext'], in_channels=3))
    state = {k: v for k, v in stock.state_dict().items() if not k.startswith('norm0.')}
    path = tmp_path / 'no_norm0.pth'
    torch.save(state, path)
    with pytest.raises(CheckpointInflationError, match=r'missing keys 2: \[norm0\.'):
        build('convnext', init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    model = build('convnext', init_cfg=dict(type='Pretrained', checkpoint=str(path)),
                  init_missing_ok=(r'norm0\.', ))
    sd = stream_state_dict(model, 1)
    assert torch.equal(sd['stages.0.0.norm.weight'], stock.state_dict()[
        'stages.0.0.norm.weight'])
    assert torch.equal(sd['norm0.weight'], torch.ones(8))  # default init kept
    # an unexpected key is an error unless init_ignore_keys drops it
    torch.save(dict(stock.state_dict(), **{'norm.weight': torch.ones(16)}), path)
    with pytest.raises(CheckpointInflationError, match=r'unexpected keys 1: \[norm\.w'):
        build('convnext', init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    model = build('convnext', init_cfg=dict(type='Pretrained', checkpoint=str(path)),
                  init_ignore_keys=(r'norm\.', ))
    assert torch.equal(stream_state_dict(model, 0)['norm0.weight'],
                       stock.state_dict()['norm0.weight'])
