"""tools/analysis_tools/gpu_benchmark.py: its CPU code path end to end on a tiny
CEN segmentor (the GPU itself is not available to the tests), and the
synchronisation counter."""
import pytest
import importlib.util
import json
import os
import os.path as osp
import warnings

import torch
from mmengine.registry import DefaultScope

ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
TOOL = osp.join(ROOT, 'tools', 'analysis_tools', 'gpu_benchmark.py')

TINY_CONFIG = """
model = dict(
    type='CENEncoderDecoder',
    data_preprocessor=dict(type='SegDataPreProcessor', mean=[0.] * 4, std=[1.] * 4,
                           bgr_to_rgb=False),
    backbone=dict(type='CENResNet', depth=18, in_channels=(3, 1), base_channels=8,
                  stem_channels=8, norm_cfg=dict(type='BN', requires_grad=True),
                  norm_eval=True, exchange=True),
    decode_head=dict(type='FCNHead', in_channels=64, in_index=3, channels=8,
                     num_convs=1, num_classes=5,
                     norm_cfg=dict(type='BN', requires_grad=True)),
    test_cfg=dict(mode='whole', output='ensemble'))
"""


def load_tool():
    spec = importlib.util.spec_from_file_location('gpu_benchmark', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_on_cpu(tmp_path, name, config_text, *args):
    """The tool's rows for the config (written to tmp_path/name.py) on the CPU at
    32 px, one timed round, half of each sub-part below θ."""
    cfg = tmp_path / f'{name}.py'
    cfg.write_text(config_text)
    with DefaultScope.overwrite_default_scope('mmseg'):  # no global scope left
        return load_tool().main(['--device', 'cpu', '--config', str(cfg), '--size',
                                 '32', '--iters', '1', '--warmup', '0',
                                 '--exchange-frac', '0.5', *args])


@pytest.mark.e2e
def test_cpu_code_path_end_to_end(tmp_path, capsys):
    out = tmp_path / 'rows.json'
    rows = run_on_cpu(tmp_path, 'tiny_cen', TINY_CONFIG, '--json', str(out))
    assert [r['phase'] for r in rows] == ['train', 'infer']
    for row in rows:
        assert row['streams'] == 2 and row['exchanged'] > 0
        for key in ('cen', 'floor'):
            assert row[key]['seconds'] > 0 and row[key]['peak_bytes'] > 0
            assert row[key]['syncs'] is None  # no such count on the CPU
        assert row['time_ratio'] == row['cen']['seconds'] / row['floor']['seconds']
    saved = json.loads(out.read_text())
    assert saved['rows'] == json.loads(json.dumps(rows))
    assert saved['device'].startswith('CPU')
    printed = capsys.readouterr().out
    assert printed.count('| tiny_cen | 2 |') == 2


def test_sync_counter_counts_only_sync_warnings(monkeypatch):
    tool = load_tool()
    modes = []
    monkeypatch.setattr(torch.cuda, 'get_sync_debug_mode', lambda: 0)
    monkeypatch.setattr(torch.cuda, 'set_sync_debug_mode', modes.append)
    with tool.count_syncs(torch.device('cuda')) as syncs:
        for _ in range(3):  # the same call site three times: three syncs
            warnings.warn('called a synchronizing CUDA operation')
        warnings.warn('something else')
    assert syncs == [3] and modes == ['warn', 0]
    with tool.count_syncs(torch.device('cpu')) as syncs:
        pass
    assert syncs == [None]


# ---- the modern-backbone family: MultiStreamBackbone (floor: the stock backbone) -----
TINY_MIT_CONFIG = """
model = dict(
    type='CENEncoderDecoder',
    data_preprocessor=dict(type='SegDataPreProcessor', mean=[0.] * 4, std=[1.] * 4,
                           bgr_to_rgb=False),
    backbone=dict(
        type='MultiStreamBackbone', in_channels=(3, 1), exchange=True,
        backbone=dict(type='mmseg.MixVisionTransformer', embed_dims=8, num_stages=2,
                      num_layers=[1, 1], num_heads=[1, 2], patch_sizes=[7, 3],
                      strides=[4, 2], sr_ratios=[2, 1], out_indices=(0, 1))),
    decode_head=dict(type='SegformerHead', in_channels=[8, 16], in_index=[0, 1],
                     channels=8, num_classes=5,
                     norm_cfg=dict(type='BN', requires_grad=True)),
    test_cfg=dict(mode='whole', output='ensemble'))
"""


def test_default_configs_cover_a_modern_backbone_family():
    from mmengine.config import Config
    tool = load_tool()
    types = {}
    for path in tool.DEFAULT_CONFIGS:
        full = osp.join(ROOT, path)
        assert osp.isfile(full), path
        model = Config.fromfile(full).model
        assert model.type == 'CENEncoderDecoder' and model.get('neck') is None
        types[osp.basename(path)] = (model.backbone.type,
                                     model.backbone.get('backbone', {}).get('type'))
    assert types == {
        'cen_refinenet_r101.py': ('CENResNet', None),
        'cen_pspnet_r101.py': ('CENResNet', None),
        'cen_segformer_mit-b2_nyud_rgbd.py': ('MultiStreamBackbone',
                                              'mmseg.MixVisionTransformer')}


def test_cpu_code_path_multi_stream_backbone(tmp_path, capsys):
    rows = run_on_cpu(tmp_path, 'tiny_mit', TINY_MIT_CONFIG, '--batch', '1',
                      '--phases', 'infer')
    assert len(rows) == 1 and rows[0]['phase'] == 'infer'
    row = rows[0]
    # 2 streams, half of each sub-part below θ: a quarter of all pairs exchanged
    assert row['streams'] == 2 and row['exchanged'] == 0.25
    for key in ('cen', 'floor'):
        assert row[key]['seconds'] > 0 and row[key]['peak_bytes'] > 0
        assert row[key]['syncs'] is None
    assert capsys.readouterr().out.count('| tiny_mit | 2 | infer | 25.0% |') == 1


# ---- --check (device against CPU), --streams / --amp / --backbone-only ---------------
def test_check_passes_on_rounding_only():
    tool = load_tool()
    assert tool.check_passes(5e-4, 1e-7)  # below the tolerance
    assert tool.check_passes(0.9, 0.2)  # a gradient zero in exact arithmetic
    assert not tool.check_passes(0.01, 1e-5)  # far beyond the CPU's own rounding
    assert not tool.check_passes(float('nan'), 1e-5)


def test_check_compares_float32_runs_with_float64(tmp_path):
    from mmengine.config import Config
    from cen_mm.utils.benchmark.device_check import (compare_exchange_paths,
                                                     compare_with_cpu)
    cfg = tmp_path / 'tiny_cen.py'
    cfg.write_text(TINY_CONFIG)
    model = Config.fromfile(str(cfg)).model.to_dict()
    with DefaultScope.overwrite_default_scope('mmseg'):
        result = compare_with_cpu('tiny', model, torch.device('cpu'), size=32,
                                  exchange_frac=0.5)
    assert result['exchanged'] == 0.25
    # 'device' is the CPU here: the same float32 run, so the same errors
    assert result['device'] == result['cpu']
    for key in ('logits', 'loss', 'grads'):
        assert 0 < result['cpu'][key] < 1e-4  # float32 rounding, not zero
    # the worst single parameter's error is at least that of all gradients together
    assert result['cpu']['grad'] >= result['cpu']['grads'] * (1 - 1e-6)
    assert compare_exchange_paths(torch.device('cpu'), 2)
    assert compare_exchange_paths(torch.device('cpu'), 3)


def test_relative_error_and_flat_tensors():
    from cen_mm.utils.benchmark.device_check import flat_tensors, relative_error
    a = torch.tensor([3.0, 4.0])
    assert relative_error(a, a) == 0
    assert relative_error(a + torch.tensor([0.0, 0.5]), a) == pytest.approx(0.1)
    assert relative_error(torch.zeros(2), torch.zeros(2)) == 0
    nested = [torch.ones(2, 1), {'x': (torch.zeros(1), torch.full((1, ), 2.0))}]
    assert torch.equal(flat_tensors(nested), torch.tensor([1.0, 1.0, 0.0, 2.0]))


@pytest.mark.e2e
def test_cpu_code_path_three_streams_amp_backbone_only(tmp_path):
    rows = run_on_cpu(tmp_path, 'tiny_cen', TINY_CONFIG, '--iters', '2', '--streams',
                      '3', '--amp', '--backbone-only', '--phases', 'train')
    assert len(rows) == 1
    row = rows[0]
    assert row['streams'] == 3 and row['phase'] == 'train'
    lo, hi = row['paired_interval']
    assert lo <= row['paired_ratio'] <= hi


def test_bad_streams_is_refused(capsys):
    tool = load_tool()
    with pytest.raises(SystemExit):
        tool.parse_args(['--streams', '1'])
    assert '--streams must be >= 2' in capsys.readouterr().err


@pytest.mark.e2e
def test_host_patterns_ab_tool_runs_on_the_cpu():
    import subprocess
    import sys
    tool = osp.join(ROOT, 'tools', 'analysis_tools', 'gpu_host_patterns_ab.py')
    out = subprocess.run([sys.executable, tool, 'cpu', '32', '1'], cwd=ROOT,
                         capture_output=True, text=True, timeout=900,
                         env=dict(os.environ, CEN_MM_EXT='0'))
    assert out.returncode == 0, out.stderr[-2000:]
    # four cases, each: the same loss and gradients with and without host patterns
    assert out.stdout.count('loss equal True, gradients equal True') == 4
    assert out.stdout.count('| host |') == 4 and out.stdout.count('| cen |') == 4


def test_missing_config_is_named_by_check_and_benchmark(tmp_path):
    tool = load_tool()
    with pytest.raises(FileNotFoundError, match='--config nowhere.py: no such file'):
        tool.resolve_config('nowhere.py')
    cfg = tmp_path / 'tiny_cen.py'
    cfg.write_text(TINY_CONFIG)
    assert tool.resolve_config(str(cfg)) == (str(cfg), 'tiny_cen')
    # relative to the repository from any working directory
    full, name = tool.resolve_config('configs/_base_/models/cen_refinenet_r101.py')
    assert name == 'cen_refinenet_r101'
    assert osp.samefile(full, osp.join(ROOT, 'configs/_base_/models/cen_refinenet_r101.py'))
