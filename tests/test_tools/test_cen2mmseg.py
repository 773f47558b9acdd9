"""tools/model_converters/cen2mmseg.py: round trip through official-style keys."""
import importlib.util
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from mmseg.registry import MODELS

import cen_mm  # noqa: F401

CONVERTER = Path(__file__).resolve().parents[2] / 'tools/model_converters/cen2mmseg.py'

MODEL_CFG = dict(
    type='CENEncoderDecoder',
    backbone=dict(type='CENResNet', depth=50, in_channels=(3, 1), base_channels=4,
                  stem_channels=8, norm_eval=True, exchange=True,
                  exchange_mode='all'),
    decode_head=dict(type='RefineNetHead', in_channels=(16, 32, 64, 128),
                     stage_channels=(16, 8, 8, 8), num_classes=3),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))


@pytest.fixture(scope='module')
def converter():
    spec = importlib.util.spec_from_file_location('cen2mmseg', CONVERTER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def model():
    torch.manual_seed(0)
    return MODELS.build(MODEL_CFG)


# Inverse of the converter, written independently: our key -> the official key
# (yikaiw/CEN semantic_segmentation/models/model.py, DataParallel-wrapped).
_OFFICIAL_RCU = {'conv1': 'conv', 'conv2': 'conv_relu_varout_dimred'}
_OFFICIAL_STAGE = {
    'dimred': 'p_ims1d2_outl{s}_dimred',
    'adapt_out': 'adapt_stage{s}_b2_joint_varout_dimred',
    'out_conv': 'mflow_conv_g{s}_b3_joint_varout_dimred',
}


def to_official(key: str) -> str:
    if key == 'ensemble.alpha':
        return 'module.alpha'
    if key.startswith('backbone.'):
        key = key[len('backbone.'):]
        if '.norms.' in key:
            key = key.replace('.norms.', '.bn_')
        else:  # shared conv wrapped in ModuleParallel
            head, param = key.rsplit('.', 1)
            key = f'{head}.module.{param}'
        return 'module.' + key
    key = key[len('decode_head.'):]
    if key.startswith('conv_seg.'):
        return 'module.clf_conv.module.' + key.split('.')[1]
    m = re.fullmatch(r'stages\.(\d)\.(\w+)\.(.*)', key)
    s, part, rest = int(m.group(1)) + 1, m.group(2), m.group(3)
    if part in _OFFICIAL_STAGE:
        return f'module.{_OFFICIAL_STAGE[part].format(s=s)}.module.{rest}'
    if part == 'crp':
        i, param = re.fullmatch(r'convs\.(\d+)\.(\w+)', rest).groups()
        return (f'module.mflow_conv_g{s}_pool.0.{int(i) + 1}_outvar_dimred.'
                f'module.{param}')
    b, conv, param = re.fullmatch(r'blocks\.(\d+)\.(conv\d)\.(\w+)', rest).groups()
    prefix = f'adapt_stage{s}_b' if part == 'adapt' else f'mflow_conv_g{s}_b'
    return f'module.{prefix}.0.{int(b) + 1}_{_OFFICIAL_RCU[conv]}.module.{param}'


def _official_state_dict(model):
    g = torch.Generator().manual_seed(3)
    ours = {k: (torch.randn(v.shape, generator=g) if v.is_floating_point() else v)
            for k, v in model.state_dict().items()}
    return ours, {to_official(k): v for k, v in ours.items()}


def test_inverse_map_spot_checks():
    # spot checks of the test's own inverse map against official names
    assert to_official('backbone.layer1.0.bn2.norms.1.weight') == \
        'module.layer1.0.bn2.bn_1.weight'
    assert to_official('backbone.conv1.weight') == 'module.conv1.module.weight'
    assert to_official('backbone.layer2.0.downsample.1.norms.0.running_var') == \
        'module.layer2.0.downsample.1.bn_0.running_var'
    assert to_official('decode_head.stages.0.adapt.blocks.1.conv2.weight') == \
        'module.adapt_stage1_b.0.2_conv_relu_varout_dimred.module.weight'
    assert to_official('decode_head.stages.3.fuse.blocks.2.conv1.bias') == \
        'module.mflow_conv_g4_b.0.3_conv.module.bias'
    assert to_official('decode_head.stages.2.crp.convs.3.weight') == \
        'module.mflow_conv_g3_pool.0.4_outvar_dimred.module.weight'


def test_round_trip(converter, model):
    ours, official = _official_state_dict(model)
    assert len(official) == len(ours)  # the inverse map is injective
    converted = converter.convert_state_dict(official)
    assert set(converted) == set(ours)
    for k, v in ours.items():
        assert torch.equal(converted[k], v), k
    model.load_state_dict(converted, strict=True)


def test_package_conversion_without_the_script(converter, model):
    """The rules live in cen_mm.seg.models.utils.official_checkpoint; the script only
    re-exports them. A key reached from two source keys is an error naming both."""
    from cen_mm.seg.models.utils import official_checkpoint as pkg
    assert converter.convert_state_dict is pkg.convert_state_dict
    assert converter.ConversionError is pkg.OfficialCheckpointError
    _, official = _official_state_dict(model)
    converted = pkg.convert_state_dict(official)
    assert converted.keys() == model.state_dict().keys()
    assert pkg.convert_key('module.layer1.0.bn2.bn_1.weight') == \
        'backbone.layer1.0.bn2.norms.1.weight'
    with pytest.raises(pkg.OfficialCheckpointError,
                       match="'module.alpha' and 'alpha' both map to"):
        pkg.convert_state_dict({'module.alpha': torch.ones(2), 'alpha': torch.ones(2)})


def test_unmatched_keys_are_listed(converter, model):
    _, official = _official_state_dict(model)
    official['module.some_new_layer.module.weight'] = torch.zeros(1)
    official['module.layer1.0.bn2.running_mean'] = torch.zeros(1)
    with pytest.raises(converter.ConversionError) as err:
        converter.convert_state_dict(official)
    msg = str(err.value)
    assert '2 source key(s)' in msg
    assert 'module.some_new_layer.module.weight' in msg
    assert 'module.layer1.0.bn2.running_mean' in msg


@pytest.mark.e2e
def test_cli(converter, model, tmp_path, capsys):
    ours, official = _official_state_dict(model)
    src, dst = tmp_path / 'model-best.pth.tar', tmp_path / 'converted.pth'
    # what the official main.py saves (best_val is a numpy scalar there)
    torch.save({'segmenter': official, 'epoch_start': 7,
                'best_val': np.float64(0.5)}, src)
    cfg_file = tmp_path / 'cfg.py'
    cfg_file.write_text(f'default_scope = "mmseg"\nmodel = {MODEL_CFG!r}\n')
    assert converter.main([str(src), str(dst), '--config', str(cfg_file)]) == 0
    out = capsys.readouterr().out
    assert f'mapped {len(ours)} / {len(ours)} keys' in out
    ckpt = torch.load(dst, map_location='cpu', weights_only=True)
    assert set(ckpt) == {'state_dict', 'meta'}
    for k, v in ours.items():
        assert torch.equal(ckpt['state_dict'][k], v), k

    # --config catches a model that does not fit (3 streams here)
    cfg_file.write_text('default_scope = "mmseg"\nmodel = ' + repr(dict(
        MODEL_CFG, backbone=dict(MODEL_CFG['backbone'], in_channels=(3, 1, 1)),
        )) + '\n')
    assert converter.main([str(src), str(dst), '--config', str(cfg_file)]) == 1
    err = capsys.readouterr().err
    assert 'missing in the converted checkpoint' in err and 'norms.2' in err
    assert 'alpha' in err  # shape mismatch (2,) vs (3,)


def test_rejects_non_official_checkpoint(converter, tmp_path, capsys):
    src = tmp_path / 'mm.pth'
    torch.save({'state_dict': {'a': torch.zeros(1)}, 'meta': {}}, src)
    assert converter.main([str(src), str(tmp_path / 'o.pth')]) == 1
    assert "expected an official CEN checkpoint with 'segmenter'" in \
        capsys.readouterr().err
