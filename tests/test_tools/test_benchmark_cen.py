"""tools/analysis_tools/benchmark_cen.py, the command line over cen_mm.utils.benchmark
(whose parts are tested in tests/test_utils/test_benchmark): its arguments, and tiny
runs that print its tables."""
import importlib.util
import json
import os.path as osp

import pytest
import torch
from mmengine.registry import DefaultScope


ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
TOOL = osp.join(ROOT, 'tools', 'analysis_tools', 'benchmark_cen.py')


@pytest.fixture(scope='module')
def bench():
    spec = importlib.util.spec_from_file_location('benchmark_cen', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True)
def mmseg_scope():
    """mmseg's registries for the segmentor, without leaking a global default scope."""
    import cen_mm  # noqa: F401
    with DefaultScope.overwrite_default_scope('mmseg'):
        yield


def tiny_backbone(**kwargs):
    return dict(type='CENResNet', depth=18, in_channels=(3, 1), base_channels=8,
                stem_channels=8, norm_cfg=dict(type='BN', requires_grad=True),
                norm_eval=True, exchange=True, **kwargs)


def tiny_segmentor():
    return dict(
        type='CENEncoderDecoder',
        data_preprocessor=dict(type='SegDataPreProcessor', mean=[0.] * 4,
                               std=[1.] * 4, bgr_to_rgb=False),
        backbone=tiny_backbone(init_cfg=dict(type='Pretrained', checkpoint='none')),
        decode_head=dict(type='FCNHead', in_channels=64, in_index=3, channels=8,
                         num_convs=1, num_classes=5,
                         norm_cfg=dict(type='BN', requires_grad=True)),
        test_cfg=dict(mode='whole', output='ensemble'))


@pytest.mark.e2e
def test_segmentor_pair_end_to_end(bench, capsys):
    # batch 2: the head's BNs are private per stream (#17) and train on the 1x1 map
    pair = bench.ModelPair('tiny-seg', tiny_segmentor(), False, None, batch=2,
                           size=32, device=torch.device('cpu'), seed=0)
    assert type(pair.floor).__name__ == 'EncoderDecoder'
    assert len(pair.floor_samples) == 2 * len(pair.cen_samples)
    args = bench.parse_args(['--iters', '1', '--warmup', '0', '--exchange-fracs', '0',
                             '0.5'])
    rows = bench.benchmark_pair(pair, args, torch.device('cpu'))
    out = capsys.readouterr().out
    # one time row and one memory row per (fraction, phase)
    assert len(rows) == 4 and out.count('| train |') == 4 and out.count('| infer |') == 4
    for row in rows:
        assert row['wall']['cen'] > 0 and row['floor_step_mem'] > 0
        # CEN's only extra static memory: M-1 more norm layers and alpha
        assert row['cen_static_mem'] > row['floor_static_mem']
    assert rows[2]['frac'] > 0


def test_cfg_options_reach_every_model_config(bench, tmp_path):
    from cen_mm.core import iter_exchanging_norms
    paths = [tmp_path / 'tiny.py', tmp_path / 'tiny_too.py']
    for path in paths:
        path.write_text(f'model = {tiny_segmentor()!r}\n')
    configs = ['--config'] + [str(p) for p in paths]
    opts = ['--cfg-options', 'model.backbone.exchange_mode=all',
            'model.backbone.depth=34']
    loaded = bench.load_model_cfgs(bench.parse_args(configs + opts))
    assert [name for name, _ in loaded] == ['tiny', 'tiny_too']
    for _, cfg in loaded:
        assert cfg['backbone']['exchange_mode'] == 'all'
        assert cfg['backbone']['depth'] == 34 and cfg['decode_head']['num_classes'] == 5
    (_, plain), = bench.load_model_cfgs(bench.parse_args(['--config', str(paths[0])]))
    assert 'exchange_mode' not in plain['backbone'] and plain['backbone']['depth'] == 18
    # the pair built from it measures the exchange over all channels
    pair = bench.ModelPair('tiny', loaded[0][1]['backbone'] | dict(depth=18), True,
                           None, batch=1, size=32, device=torch.device('cpu'), seed=0)
    assert {norm.exchange_mode for _, norm in iter_exchanging_norms(pair.cen)} == {'all'}


def test_config_without_model_is_named_even_with_cfg_options(bench, tmp_path):
    config = tmp_path / 'no_model.py'
    config.write_text('optimizer = dict(type="SGD")\n')
    args = bench.parse_args(['--config', str(config),
                             '--cfg-options', 'model.backbone.depth=34'])
    with pytest.raises(KeyError, match=r'no_model\.py: no `model`'):
        bench.load_model_cfgs(args)


def test_cfg_options_reach_the_built_in_backbone(bench, monkeypatch):
    monkeypatch.setattr(bench, 'DEFAULT_CONFIGS', ['configs/no_such_config.py'])
    args = bench.parse_args(['--cfg-options', 'model.depth=50'])
    (name, cfg), = bench.load_model_cfgs(args)
    assert name == 'CENResNet-101 backbone (built-in)'
    assert cfg['depth'] == 50 and cfg['type'] == bench.FALLBACK_BACKBONE['type']
    assert bench.FALLBACK_BACKBONE['depth'] == 101  # the constant itself unchanged


def test_bad_arguments_are_rejected(bench):
    with pytest.raises(SystemExit):
        bench.parse_args(['--streams', '1'])
    with pytest.raises(SystemExit):
        bench.parse_args(['--exchange-fracs', '1.5'])


@pytest.mark.e2e
def test_data_pipeline_counts_the_images_it_loaded(bench, tmp_path, capsys):
    """4 files, batch size 6: every pass is one short batch of 4; the first pass goes
    to the start-up batch, the two timed batches each need a new pass."""
    bench.write_synthetic_nyud(str(tmp_path), num=4)
    args = bench.parse_args(['--no-models', '--data-root', str(tmp_path),
                             '--data-batches', '2'])
    bench.benchmark_data(args)
    out = capsys.readouterr().out
    assert 'batch size 6, num_workers 2' in out
    assert '(8 images in 2 batches, 2 restarts of the loader' in out


# ---- MultiStreamBackbone segmentors ---------------------------------------------------
TINY_INNER = {
    'mit': dict(type='mmseg.MixVisionTransformer', embed_dims=8, num_stages=2,
                num_layers=[1, 1], num_heads=[1, 2], patch_sizes=[7, 3],
                strides=[4, 2], sr_ratios=[2, 1], out_indices=(0, 1)),
    'swin': dict(type='mmseg.SwinTransformer', embed_dims=8, depths=[2, 2],
                 num_heads=[1, 2], window_size=4, strides=(4, 2), out_indices=(0, 1),
                 pretrain_img_size=32),
    'convnext': dict(type='mmpretrain.ConvNeXt',
                     arch=dict(depths=[1, 1], channels=[8, 16]), out_indices=[0, 1],
                     gap_before_final_norm=False),
}


def tiny_multi_stream(family, **kwargs):
    return dict(type='MultiStreamBackbone', in_channels=(3, 1), exchange=True,
                backbone=dict(TINY_INNER[family]), **kwargs)


@pytest.mark.e2e
def test_multi_stream_segmentor_pair_end_to_end(bench, capsys):
    """A MiT + SegFormer head CEN segmentor as the modern configs write it
    (head_norms='private', which mmseg's EncoderDecoder does not take: the floor
    drops it)."""
    cfg = dict(
        type='CENEncoderDecoder', head_norms='private',
        data_preprocessor=dict(type='SegDataPreProcessor', mean=[0.] * 4,
                               std=[1.] * 4, bgr_to_rgb=False),
        backbone=tiny_multi_stream(
            'mit', init_cfg=dict(type='Pretrained', checkpoint='none')),
        decode_head=dict(type='SegformerHead', in_channels=[8, 16], in_index=[0, 1],
                         channels=8, num_classes=5,
                         norm_cfg=dict(type='BN', requires_grad=True)),
        test_cfg=dict(mode='whole', output='ensemble'))
    pair = bench.ModelPair('tiny-mit-seg', cfg, False, None, batch=2, size=32,
                           device=torch.device('cpu'), seed=0)
    assert type(pair.floor).__name__ == 'EncoderDecoder'
    assert type(pair.floor.backbone).__name__ == 'MixVisionTransformer'
    args = bench.parse_args(['--iters', '1', '--warmup', '0', '--exchange-fracs',
                             '0.5', '--phases', 'train'])
    rows = bench.benchmark_pair(pair, args, torch.device('cpu'))
    assert capsys.readouterr().out.count('| train |') == 2
    assert len(rows) == 1 and rows[0]['frac'] > 0
    assert rows[0]['wall']['cen'] > 0 and rows[0]['floor_step_mem'] > 0
    assert rows[0]['cen_static_mem'] > rows[0]['floor_static_mem']


@pytest.mark.e2e
def test_main_prints_every_table_and_writes_json(bench, tmp_path, capsys):
    """--backbone-only on a tiny config: FLOPs line, time, memory, profile and hook
    tables, and the JSON file (written atomically: no .tmp left)."""
    cfg = tmp_path / 'tiny_backbone.py'
    cfg.write_text(f'model = {tiny_backbone()!r}\n')
    out = tmp_path / 'bench.json'
    bench.main(['--config', str(cfg), '--backbone-only', '--size', '32', '--iters', '1',
                '--warmup', '0', '--exchange-fracs', '0.5', '--phases', 'train',
                '--no-data', '--profile', '--profile-steps', '1', '--json', str(out)])
    printed = capsys.readouterr().out
    assert '## tiny_backbone (backbone): M=2 streams x batch 2' in printed
    assert '(identical)' in printed  # CEN and floor do the same conv FLOPs
    assert printed.count('| 50% |') == 3  # time, memory and profile rows
    assert '| CENSparsityHook | optimizer pre-hook' in printed
    assert '| ExchangeStatsHook | one record' in printed
    saved = json.loads(out.read_text())
    assert [r['phase'] for r in saved['results'][0]['rows']] == ['train']
    assert saved['results'][0]['flops']['cen'] == saved['results'][0]['flops']['floor']
    assert not (tmp_path / 'bench.json.tmp').exists()


def test_processes_pools_the_rounds_of_separate_processes(bench, tmp_path, capfd):
    """--processes 2: the command runs twice (each prints its own tables), then the
    pooled table; the JSON holds both processes' rounds and the pooled rows, whose
    per-process ratios are each process's own paired ratio."""
    cfg = tmp_path / 'tiny_backbone.py'
    cfg.write_text(f'model = {tiny_backbone()!r}\n')
    out = tmp_path / 'pooled.json'
    bench.main(['--config', str(cfg), '--backbone-only', '--size', '32', '--iters', '2',
                '--warmup', '0', '--exchange-fracs', '0.5', '--phases', 'train',
                '--no-memory', '--no-data', '--no-hooks', '--threads', '1',
                '--processes', '2', '--json', str(out)])
    printed = capfd.readouterr().out
    assert '# process 1 of 2' in printed and '# process 2 of 2' in printed
    assert printed.count('## tiny_backbone (backbone)') == 2
    assert '## Pooled over 2 processes' in printed
    saved = json.loads(out.read_text())
    assert len(saved['processes']) == 2
    own = [p['results'][0]['rows'][0]['cpu']['paired'] for p in saved['processes']]
    assert len(saved['pooled']) == 1
    pooled = saved['pooled'][0]
    assert pooled['cpu']['per_process'] == pytest.approx(own)
    rounds = [r for p in saved['processes'] for r in zip(
        p['results'][0]['rows'][0]['times']['cen']['cpu'],
        p['results'][0]['rows'][0]['times']['floor']['cpu'])]
    assert len(rounds) == 4
    assert pooled['cpu']['paired'] == pytest.approx(
        bench.median_ratio([c for c, _ in rounds], [f for _, f in rounds]))
    row = next(line for line in printed.splitlines()
               if line.startswith('| tiny_backbone | 2 | 50% |') and '| cpu |' in line)
    assert f'{pooled["cpu"]["paired"]:.3f} (' in row
    assert not (tmp_path / 'pooled.json.tmp').exists()


def test_processes_must_be_positive_and_needs_the_models(bench):
    with pytest.raises(SystemExit):
        bench.parse_args(['--processes', '0'])
    with pytest.raises(SystemExit):
        bench.parse_args(['--processes', '2', '--no-models'])
