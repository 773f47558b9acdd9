"""CENResNet: equality with single-stream reference ResNets, exchange placement and
values, input broadcast, output structure, inflation, freezing and the ablations.

References are independent implementations: torchvision's ResNet, mmseg's ResNetV1c,
mmpretrain's ResNet / ResNetV1c, and a manual F.batch_norm + exchange computation.
"""
import copy

import pytest
import torch
import torch.nn.functional as F
import torchvision
from mmengine.registry import MODELS
from torch.nn.modules.batchnorm import _BatchNorm

from cen_mm.core import (ModalityNorm, MultiStreamFeatures, iter_exchanging_norms,
                         subpart_bounds)
from cen_mm.models.backbones import (CENResNet, CheckpointInflationError,
                                     ModalityConv2d, single_stream_key_map)
from tests.fixtures.threads import single_thread  # noqa: F401 (autouse)

STAGE_BLOCKS = {18: (2, 2, 2, 2), 34: (3, 4, 6, 3), 50: (3, 4, 6, 3),
                101: (3, 4, 23, 3), 152: (3, 8, 36, 3)}
ATOL = 1e-4


# ---- helpers -----------------------------------------------------------------------
def randomize_norms(model, seed=0):
    """Non-trivial BN statistics and affine parameters (γ in [0.5, 1.5] > θ)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, _BatchNorm):
                c = module.num_features
                module.weight.copy_(0.5 + torch.rand(c, generator=g))
                module.bias.copy_(0.4 * torch.rand(c, generator=g) - 0.2)
                module.running_mean.copy_(0.4 * torch.rand(c, generator=g) - 0.2)
                module.running_var.copy_(0.5 + torch.rand(c, generator=g))
    return model


def torchvision_resnet(depth, seed=0):
    torch.manual_seed(seed)
    model = getattr(torchvision.models, f'resnet{depth}')()
    return randomize_norms(model, seed)


def torchvision_features(model, x):
    x = model.maxpool(model.relu(model.bn1(model.conv1(x))))
    feats = []
    for name in ('layer1', 'layer2', 'layer3', 'layer4'):
        x = getattr(model, name)(x)
        feats.append(x)
    return feats


def pretrained(path, **kwargs):
    model = CENResNet(init_cfg=dict(type='Pretrained', checkpoint=str(path)), **kwargs)
    model.init_weights()
    return model


def assert_streams_match(outputs, references):
    """outputs: list over streams of tuples of levels; references: same nesting."""
    assert len(outputs) == len(references)
    for m, (out, ref) in enumerate(zip(outputs, references)):
        assert isinstance(out, tuple) and len(out) == len(ref)
        for level, (o, r) in enumerate(zip(out, ref)):
            assert o.shape == r.shape, (m, level)
            torch.testing.assert_close(o, r, atol=ATOL, rtol=1e-4,
                                       msg=f'stream {m} level {level}')


@pytest.fixture(scope='module')
def tv_checkpoints(tmp_path_factory):
    """depth -> (torchvision model, path of its saved state_dict)."""
    root = tmp_path_factory.mktemp('tv')
    out = {}
    for depth in (18, 50):
        model = torchvision_resnet(depth, seed=depth)
        path = root / f'resnet{depth}.pth'
        torch.save(model.state_dict(), path)
        out[depth] = (model, path)
    return out


# ---- equality with torchvision --------------------------------------------------------
@pytest.mark.e2e
@pytest.mark.parametrize('depth,in_channels,train', [
    (18, (3, 1), False), (18, (3, 1), True), (50, (3, 1), False), (50, (3, 1), True),
    (18, (3, 1, 1), False)])
def test_features_match_torchvision(tv_checkpoints, depth, in_channels, train):
    """Without exchange every stream is torchvision's ResNet on its (broadcast) input,
    in eval mode and in train mode (per-stream batch statistics)."""
    tv, path = tv_checkpoints[depth]
    tv = copy.deepcopy(tv)
    cen = pretrained(path, depth=depth, in_channels=in_channels, exchange=False)
    cen.train(train)
    tv.train(train)
    torch.manual_seed(1)
    x = torch.randn(2, sum(in_channels), 32, 32)
    stream_inputs = [p.expand(-1, 3, -1, -1) for p in x.split(in_channels, dim=1)]
    with torch.no_grad():
        outputs = cen(x)
        references = []
        for inp in stream_inputs:
            tv_m = copy.deepcopy(tv)  # each stream updates its own running stats
            references.append(tuple(torchvision_features(tv_m, inp)))
            if train:
                cen_bn = cen.layer1[0].bn1.norms[len(references) - 1]
                torch.testing.assert_close(cen_bn.running_mean,
                                           tv_m.layer1[0].bn1.running_mean)
    assert_streams_match(outputs, references)


def test_same_image_in_every_stream_gives_identical_streams(tv_checkpoints):
    tv, path = tv_checkpoints[18]
    cen = pretrained(path, depth=18, in_channels=(3, 3), exchange=False).eval()
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        outputs = cen(torch.cat([x, x], dim=1))
        ref = tuple(torchvision_features(tv.eval(), x))
    assert_streams_match(outputs, [ref, ref])


# ---- mmpretrain / mmseg layouts ------------------------------------------------------
def _save_whole_model_checkpoint(path, backbone, head_keys):
    state = {f'backbone.{k}': v for k, v in backbone.state_dict().items()}
    state.update({k: torch.zeros(3) for k in head_keys})
    torch.save({'meta': {'epoch': 1}, 'state_dict': state}, path)


def test_mmpretrain_layout(tmp_path):
    from mmpretrain.models.backbones import ResNet as MMPretrainResNet
    ref = randomize_norms(MMPretrainResNet(depth=18, out_indices=(0, 1, 2, 3)), 3)
    path = tmp_path / 'mmpretrain_r18.pth'
    _save_whole_model_checkpoint(path, ref, ['head.fc.weight', 'head.fc.bias'])
    cen = pretrained(path, depth=18, in_channels=(3, 3), exchange=False).eval()
    ref.eval()
    x = torch.randn(2, 6, 32, 32)
    with torch.no_grad():
        outputs = cen(x)
        references = [ref(x[:, :3]), ref(x[:, 3:])]
    assert_streams_match(outputs, references)


def test_mmpretrain_v1c_stem_layout(tmp_path):
    """mmpretrain's V1c stem (stem.{i}.conv / stem.{i}.bn) maps to mmseg's keys."""
    from mmpretrain.models.backbones import ResNetV1c as MMPretrainResNetV1c
    ref = randomize_norms(MMPretrainResNetV1c(depth=18, out_indices=(0, 1, 2, 3)), 4)
    path = tmp_path / 'mmpretrain_r18v1c.pth'
    _save_whole_model_checkpoint(path, ref, ['head.fc.weight'])
    cen = pretrained(path, depth=18, in_channels=(3, 3), deep_stem=True,
                     exchange=False).eval()
    ref.eval()
    x = torch.randn(2, 6, 32, 32)
    with torch.no_grad():
        assert_streams_match(cen(x), [ref(x[:, :3]), ref(x[:, 3:])])


@pytest.mark.e2e
@pytest.mark.parametrize('depth', [18, 50])
def test_mmseg_v1c_d8_layout(tmp_path, depth):
    """mmseg ResNetV1c with PSPNet's D8 settings (contract_dilation) inflates exactly."""
    from mmseg.models.backbones import ResNetV1c
    d8 = dict(strides=(1, 2, 1, 1), dilations=(1, 1, 2, 4), contract_dilation=True)
    torch.manual_seed(depth)
    ref = randomize_norms(ResNetV1c(depth=depth, **d8), 5)
    path = tmp_path / f'mmseg_r{depth}v1c.pth'
    _save_whole_model_checkpoint(
        path, ref, ['decode_head.conv_seg.weight', 'auxiliary_head.conv_seg.bias'])
    cen = pretrained(path, depth=depth, in_channels=(3, 1), deep_stem=True,
                     exchange=False, **d8).eval()
    ref.eval()
    x = torch.randn(2, 4, 32, 32)
    with torch.no_grad():
        outputs = cen(x)
        references = [ref(x[:, :3]), ref(x[:, 3:].expand(-1, 3, -1, -1))]
    assert_streams_match(outputs, references)
    assert outputs[0][3].shape[-1] == 4  # D8: 32 / 8


@pytest.mark.parametrize('depth', [18, 34, 50, 101, 152])
def test_key_layout_matches_torchvision(depth):
    """Dropping the per-stream level gives exactly torchvision's keys and shapes."""
    with torch.device('meta'):
        cen = CENResNet(depth=depth, in_channels=(3, 1))
        tv = getattr(torchvision.models, f'resnet{depth}')()
    tv_state = {k: v.shape for k, v in tv.state_dict().items()
                if not k.startswith('fc.')}
    cen_state = cen.state_dict()
    mapping = single_stream_key_map(cen)
    assert set(mapping.values()) == set(tv_state)
    for key, src in mapping.items():
        assert cen_state[key].shape == tv_state[src], key
    assert 'layer1.0.bn2.norms.1.running_var' in cen_state
    assert 'bn1.norms.0.weight' in cen_state and 'conv1.weight' in cen_state
    assert [len(getattr(cen, f'layer{i + 1}')) for i in range(4)] == list(
        STAGE_BLOCKS[depth])


# ---- exchange placement and values --------------------------------------------------
@pytest.mark.parametrize('depth', [18, 50])
def test_exchange_placement(depth):
    cen = CENResNet(depth=depth, exchange_threshold=0.03, exchange_mode='all')
    per_block = ('bn1', 'bn2') if depth < 50 else ('bn2', )
    expected = {f'layer{i + 1}.{j}.{bn}' for i, n in enumerate(STAGE_BLOCKS[depth])
                for j in range(n) for bn in per_block}
    exchanging = dict(iter_exchanging_norms(cen))
    assert set(exchanging) == expected
    assert all(n.threshold == 0.03 and n.exchange_mode == 'all'
               for n in exchanging.values())
    norms = {name for name, m in cen.named_modules() if isinstance(m, ModalityNorm)}
    private = norms - expected
    assert 'bn1' in private and 'layer2.0.downsample.1' in private
    if depth == 50:
        assert {'layer1.0.bn1', 'layer1.0.bn3', 'layer1.0.downsample.1'} <= private
    assert all(not dict(cen.named_modules())[n].exchange for n in private)
    assert not list(iter_exchanging_norms(CENResNet(depth=depth, exchange=False)))


def _manual_norm(x, bn, train):
    if train:
        return F.batch_norm(x, None, None, bn.weight, bn.bias, True, 0.0, bn.eps)
    return F.batch_norm(x, bn.running_mean, bn.running_var, bn.weight, bn.bias, False,
                        0.0, bn.eps)


@pytest.mark.parametrize('num_streams', [2, 3])
@pytest.mark.parametrize('mode', ['subpart', 'all'])
@pytest.mark.parametrize('train', [False, True])
def test_exchange_values(num_streams, mode, train):
    """Channels of stream 1 with |γ| < θ are replaced by the other streams' mean of
    their post-norm values; in 'subpart' mode only inside stream 1's sub-part."""
    torch.manual_seed(0)
    cen = randomize_norms(CENResNet(depth=18, in_channels=(3, ) * num_streams,
                                    exchange_mode=mode), 7).train(train)
    norm = cen.layer1[0].bn1
    C = norm.num_features
    bounds = subpart_bounds(C, num_streams)
    inside = list(range(bounds[1], bounds[1] + 4))  # stream 1's own sub-part
    outside = [0, 1]  # owned by stream 0
    with torch.no_grad():
        norm.norms[1].weight[inside + outside] = 1e-3
    captured = {}

    def hook(module, args, output):
        captured['in'] = args[0].detach().clone()
        captured['out'] = output.detach().clone()

    handle = norm.register_forward_hook(hook)
    x = torch.randn(2, 3 * num_streams, 32, 32)
    with torch.no_grad():
        cen(x)
    handle.remove()

    N = x.shape[0]
    streams_in = captured['in'].chunk(num_streams)
    own = [_manual_norm(xi, bn, train) for xi, bn in zip(streams_in, norm.norms)]
    expected = [o.clone() for o in own]
    exchanged = inside + (outside if mode == 'all' else [])
    others = [own[m] for m in range(num_streams) if m != 1]
    for c in exchanged:
        expected[1][:, c] = sum(o[:, c] for o in others) / len(others)
    got = captured['out'].view(num_streams, N, *captured['out'].shape[1:])
    for m in range(num_streams):
        torch.testing.assert_close(got[m], expected[m], atol=1e-5, rtol=1e-5)
    # the test can fail: the exchanged values differ from stream 1's own ones
    assert (own[1][:, exchanged] - expected[1][:, exchanged]).abs().max() > 1e-2
    assert norm.exchange_mask()[1].nonzero().squeeze(1).tolist() == sorted(exchanged)


# ---- input broadcast and output structure --------------------------------------------
def test_depth_is_broadcast_to_three_channels(tv_checkpoints):
    _, path = tv_checkpoints[18]
    one = pretrained(path, depth=18, in_channels=(3, 1)).eval()
    three = pretrained(path, depth=18, in_channels=(3, 3)).eval()
    assert one.stream_channels == 3
    rgb, depth = torch.randn(2, 3, 32, 32), torch.randn(2, 1, 32, 32)
    with torch.no_grad():
        stacked = one.stack_streams(torch.cat([rgb, depth], dim=1))
        out_one = one(torch.cat([rgb, depth], dim=1))
        out_three = three(torch.cat([rgb, depth.repeat(1, 3, 1, 1)], dim=1))
    torch.testing.assert_close(stacked, torch.cat([rgb, depth.repeat(1, 3, 1, 1)]))
    for a, b in zip(out_one, out_three):
        for fa, fb in zip(a, b):
            torch.testing.assert_close(fa, fb, atol=0, rtol=0)
    with pytest.raises(ValueError, match=r'\(N, 4, H, W\)'):
        one(torch.randn(2, 6, 32, 32))


def test_broadcast_to_least_common_multiple():
    cen = CENResNet(depth=18, in_channels=(2, 3), exchange=False)
    assert cen.stream_channels == 6 and cen.conv1.in_channels == 6
    x = torch.randn(1, 5, 8, 8)
    stacked = cen.stack_streams(x)
    torch.testing.assert_close(stacked[0], x[0, :2].repeat(3, 1, 1))
    torch.testing.assert_close(stacked[1], x[0, 2:].repeat(2, 1, 1))


def test_output_structure_d8():
    cen = CENResNet(depth=50, in_channels=(3, 1), strides=(1, 2, 1, 1),
                    dilations=(1, 1, 2, 4), contract_dilation=True).eval()
    with torch.no_grad():
        out = cen(torch.randn(2, 4, 64, 64))
    assert isinstance(out, MultiStreamFeatures) and len(out) == 2
    expected = [(2, 256, 16, 16), (2, 512, 8, 8), (2, 1024, 8, 8), (2, 2048, 8, 8)]
    for stream in out:
        assert [tuple(f.shape) for f in stream] == expected
    assert [tuple(f.shape) for f in out.stacked] == [(4, ) + e[1:] for e in expected]
    assert cen.out_channels == (256, 512, 1024, 2048)
    # contract_dilation: first block of a dilated stage uses d // 2
    dilation = {(i, j): getattr(cen, f'layer{i}')[j].conv2.dilation
                for i, j in ((3, 0), (3, 1), (4, 0), (4, 2))}
    assert dilation == {(3, 0): (1, 1), (3, 1): (2, 2), (4, 0): (2, 2), (4, 2): (4, 4)}
    assert cen.layer4[0].conv2.padding == (2, 2)


def test_out_indices_and_three_streams():
    cen = CENResNet(depth=18, in_channels=(3, 1, 1), out_indices=(1, 3)).eval()
    assert cen.num_streams == 3 and cen.out_channels == (128, 512)
    x = torch.randn(2, 5, 32, 32)
    with torch.no_grad():
        out = cen(x)
    assert len(out) == 3
    for stream in out:
        assert [tuple(f.shape) for f in stream] == [(2, 128, 4, 4), (2, 512, 1, 1)]
    assert all(len(n.norms) == 3 for _, n in iter_exchanging_norms(cen))


def test_registered_in_root_and_mmseg_scope():
    from mmseg.registry import MODELS as SEG_MODELS
    cfg = dict(type='CENResNet', depth=18, in_channels=(3, 1))
    assert isinstance(MODELS.build(cfg), CENResNet)
    assert isinstance(SEG_MODELS.build(cfg), CENResNet)


# ---- inflation errors ------------------------------------------------------------
def _save(path, state):
    torch.save(state, path)
    return path


# A torchvision ResNet-18 state dict edited (key -> new tensor; None: key removed) and
# the error that names the edit.
BAD_CHECKPOINTS = {
    'missing': ({'layer2.1.bn2.running_var': None},
                r'(?s)missing.pth.*missing keys 1: \[layer2\.1\.bn2\.running_var\]'),
    'shape': ({'layer3.0.conv1.weight': (256, 128, 1, 1)},
              r'wrong shape 1: \[layer3\.0\.conv1\.weight \(checkpoint '
              r'\(256, 128, 1, 1\), model \(256, 128, 3, 3\)\)\]'),
    # a head key is ignored, any other unknown key is an error
    'extra': ({'decode_head.conv_seg.weight': (1, ), 'neck.lateral.weight': (1, )},
              r'unexpected keys 1: \[neck\.lateral\.weight\]'),
}


@pytest.mark.parametrize('case', sorted(BAD_CHECKPOINTS))
def test_inflation_reports_bad_checkpoint(tv_checkpoints, tmp_path, case):
    edits, match = BAD_CHECKPOINTS[case]
    state = tv_checkpoints[18][0].state_dict()
    for key, shape in edits.items():
        if shape is None:
            del state[key]
        else:
            state[key] = torch.zeros(shape)
    path = _save(tmp_path / f'{case}.pth', state)
    with pytest.raises(CheckpointInflationError, match=match):
        pretrained(path, depth=18)


def test_inflation_lists_first_keys_and_count(tv_checkpoints):
    _, path = tv_checkpoints[18]  # a ResNet-18 checkpoint for a ResNet-50
    with pytest.raises(CheckpointInflationError) as info:
        pretrained(path, depth=50)
    message = str(info.value)
    assert 'resnet18.pth' in message and 'missing keys' in message
    assert 'more)' in message and 'layer1.0.bn3.weight' in message


def test_inflation_explicit_prefix(tv_checkpoints, tmp_path):
    tv, _ = tv_checkpoints[18]
    path = tmp_path / 'prefixed.pth'
    torch.save({'state_dict': {f'model.enc.{k}': v for k, v in tv.state_dict().items()}},
               path)
    cen = CENResNet(depth=18, in_channels=(3, 3), exchange=False,
                    init_cfg=dict(type='Pretrained', checkpoint=str(path),
                                  prefix='model.enc'))
    cen.init_weights()
    torch.testing.assert_close(cen.layer4[1].bn2.norms[1].running_var,
                               tv.layer4[1].bn2.running_var)
    with pytest.raises(CheckpointInflationError, match="prefix 'backbone.'"):
        CENResNet(depth=18, init_cfg=dict(type='Pretrained', checkpoint=str(path),
                                          prefix='backbone')).init_weights()


def test_pretrained_shorthand(tv_checkpoints):
    """mmseg's EncoderDecoder(pretrained=...) sets backbone.pretrained."""
    tv, path = tv_checkpoints[18]
    cen = CENResNet(depth=18, pretrained=str(path))
    cen.init_weights()
    torch.testing.assert_close(cen.layer2[0].downsample[1].norms[1].running_mean,
                               tv.layer2[0].downsample[1].running_mean)
    torch.testing.assert_close(cen.layer2[0].downsample[0].weight,
                               tv.layer2[0].downsample[0].weight)


def test_default_init():
    cen = CENResNet(depth=18)
    cen.init_weights()
    for module in cen.modules():
        if isinstance(module, _BatchNorm):
            assert torch.all(module.weight == 1) and torch.all(module.bias == 0)
    weight = cen.layer3[0].conv2.weight  # kaiming normal, fan_out = 256 * 9
    std = (2.0 / (256 * 9))**0.5
    assert abs(weight.std().item() - std) / std < 0.05
    assert abs(weight.mean().item()) < 0.1 * std


# ---- train-time behaviour ---------------------------------------------------------
def test_norm_eval_keeps_bn_frozen_but_trains_affine():
    cen = CENResNet(depth=18, norm_eval=True)
    cen.train()
    assert cen.training
    bns = [m for m in cen.modules() if isinstance(m, _BatchNorm)]
    assert bns and not any(bn.training for bn in bns)
    before = cen.layer2[0].bn1.norms[1].running_mean.clone()
    out = cen(torch.randn(2, 4, 32, 32))
    sum(f.sum() for stream in out for f in stream).backward()
    torch.testing.assert_close(cen.layer2[0].bn1.norms[1].running_mean, before)
    assert cen.layer2[0].bn1.norms[1].weight.grad.abs().sum() > 0


@pytest.mark.parametrize('deep_stem', [False, True])
def test_frozen_stages(deep_stem):
    cen = CENResNet(depth=18, frozen_stages=1, deep_stem=deep_stem)
    cen.train()
    stem = [cen.stem] if deep_stem else [cen.conv1, cen.bn1]
    frozen = stem + [cen.layer1]
    for module in frozen:
        assert all(not p.requires_grad for p in module.parameters())
        assert not any(m.training for m in module.modules())
    assert all(p.requires_grad for p in cen.layer2.parameters())
    assert cen.layer2[0].bn1.norms[0].training


def test_with_cp_gives_same_gradients():
    torch.manual_seed(0)
    plain = CENResNet(depth=18)
    ckpt = CENResNet(depth=18, with_cp=True)
    ckpt.load_state_dict(plain.state_dict())
    x = torch.randn(2, 4, 32, 32, requires_grad=True)
    grads = []
    for model in (plain, ckpt):
        model.train()
        out = model(x)
        sum((f**2).mean() for s in out for f in s).backward()
        grads.append(model.layer3[0].conv2.weight.grad.clone())
    torch.testing.assert_close(grads[0], grads[1])


# ---- ablations --------------------------------------------------------------------
def test_unshared_convs_layout_and_inflation(tv_checkpoints):
    tv, path = tv_checkpoints[18]
    cen = pretrained(path, depth=18, in_channels=(3, 1), shared_convs=False,
                     exchange=False).eval()
    keys = set(cen.state_dict())
    for key in ('conv1.convs.1.weight', 'layer1.0.conv2.convs.0.weight',
                'layer2.0.downsample.0.convs.1.weight',
                'layer2.0.downsample.1.norms.1.weight'):
        assert key in keys
    assert 'conv1.weight' not in keys and 'layer1.0.conv2.weight' not in keys
    convs = [m for m in cen.modules() if isinstance(m, ModalityConv2d)]
    assert len(convs) == 1 + 2 * 8 + 3  # stem, 2 per block, 3 downsamples
    for m in range(2):
        torch.testing.assert_close(cen.layer3[1].conv1.convs[m].weight,
                                   tv.layer3[1].conv1.weight)


def test_unshared_convs_use_their_own_weights(tv_checkpoints):
    """Stream m with its own convs and norms reproduces its own torchvision model."""
    tv_a = tv_checkpoints[18][0].eval()
    tv_b = torchvision_resnet(18, seed=99).eval()
    cen = CENResNet(depth=18, in_channels=(3, 3), shared_convs=False,
                    exchange=False).eval()
    state = {}
    for key, src in single_stream_key_map(cen).items():
        stream_b = '.convs.1.' in key or '.norms.1.' in key
        state[key] = (tv_b if stream_b else tv_a).state_dict()[src]
    cen.load_state_dict(state)
    x = torch.randn(2, 6, 32, 32)
    with torch.no_grad():
        outputs = cen(x)
        refs = [tuple(torchvision_features(tv_a, x[:, :3])),
                tuple(torchvision_features(tv_b, x[:, 3:]))]
    assert_streams_match(outputs, refs)


def test_shared_norms(tv_checkpoints):
    tv, path = tv_checkpoints[18]
    cen = pretrained(path, depth=18, in_channels=(3, 3), shared_norms=True,
                     exchange=False).eval()
    keys = set(cen.state_dict())
    assert 'bn1.norms.0.weight' in keys and 'bn1.norms.1.weight' not in keys
    x = torch.randn(2, 6, 32, 32)
    with torch.no_grad():
        refs = [tuple(torchvision_features(tv.eval(), x[:, i:i + 3])) for i in (0, 3)]
        assert_streams_match(cen(x), refs)
    with pytest.raises(ValueError, match='exchange=False'):
        CENResNet(depth=18, shared_norms=True)
