"""tools/analysis_tools/benchmark_cen.py: the floor is the same network as one stream,
the memory meter counts allocator bytes exactly, the exchanged fraction is what was
asked for, and a tiny end-to-end run prints its tables."""
import importlib.util
import os.path as osp

import pytest
import torch
from mmengine.registry import DefaultScope

from cen_mm.core import ModalityNorm, iter_exchanging_norms

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


def test_floor_is_the_same_network_as_one_stream(bench):
    pair = bench.ModelPair('tiny', tiny_backbone(), True, None, batch=2, size=32,
                           device=torch.device('cpu'), seed=3)
    assert not any(isinstance(m, ModalityNorm) for m in pair.floor.modules())
    cen_state, floor_state = pair.cen.state_dict(), pair.floor.state_dict()
    for key, value in floor_state.items():  # same seed: same conv weights
        if key.endswith('conv1.weight') or key.endswith('conv2.weight'):
            assert torch.equal(value, cen_state[key[len('backbone.'):]]), key
    # with no channel exchanged (γ = 1), every CEN stream is the floor network on that
    # stream's input (depth tiled to 3 channels like CEN does)
    pair.set_mode('infer')
    x = torch.randn(2, 4, 32, 32)
    with torch.no_grad():
        cen_out = pair.cen(x)
        floor_out = pair.floor(torch.cat([x[:, :3], x[:, 3:].repeat(1, 3, 1, 1)]))
    for m in range(2):
        for a, b in zip(cen_out[m], floor_out):
            torch.testing.assert_close(a, b[2 * m:2 * m + 2])
    cen_flops = bench.forward_flops(pair.infer_step('cen'))
    assert cen_flops > 0 and cen_flops == bench.forward_flops(pair.infer_step('floor'))


def test_exchange_fraction_is_set_per_subpart(bench):
    pair = bench.ModelPair('tiny', tiny_backbone(), True, 3, batch=1, size=32,
                           device=torch.device('cpu'), seed=0)
    assert pair.num_streams == 3 and pair.cen.in_channels == (3, 1, 3)
    measured = bench.set_exchange_fraction(pair.cen, 0.5, seed=0)
    expected_pairs = total = 0
    for _, norm in iter_exchanging_norms(pair.cen):
        mask = norm.exchange_mask()
        assert not (mask & ~norm.owner_mask).any()
        for m in range(3):
            owned = int(norm.owner_mask[m].sum())
            assert int(mask[m].sum()) == round(0.5 * owned)
            expected_pairs += round(0.5 * owned)
        total += mask.numel()
    assert measured == pytest.approx(expected_pairs / total)
    assert bench.set_exchange_fraction(pair.cen, 0.0, seed=0) == 0.0


def test_cpu_peak_meter_counts_allocator_bytes(bench):
    def step():
        a = torch.empty(1000, dtype=torch.float32)  # 4000 B
        b = torch.empty(250, dtype=torch.float64)  # 2000 B, peak 6000 B
        del a, b
        c = torch.empty(500, dtype=torch.float32)  # 2000 B
        del c

    assert bench.cpu_step_peak_bytes(step) == 6000


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


def test_bad_arguments_are_rejected(bench):
    with pytest.raises(SystemExit):
        bench.parse_args(['--streams', '1'])
    with pytest.raises(SystemExit):
        bench.parse_args(['--exchange-fracs', '1.5'])
    with pytest.raises(ValueError, match='CENResNet'):
        bench.ModelPair('x', dict(type='ResNet', depth=18), True, None, 1, 32,
                        torch.device('cpu'), 0)


def test_quiet_profiler_drops_only_kineto_noise(bench, capfd):
    import os
    with bench.quiet_profiler():
        os.write(2, b'USDT:2026-11-22 1:1 SyncActivityProfilerHandler.cpp:39] start\n')
        os.write(2, b'ERROR:2026-11-22 DeviceProperties.cpp:56] gpuGetDeviceCount '
                 b'failed with code 35\n')
        os.write(2, b'a real warning\n')
    err = capfd.readouterr().err
    assert err.splitlines() == ['a real warning']


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


def test_amp_runs_forwards_in_bfloat16(bench):
    pair = bench.ModelPair('tiny', tiny_backbone(), True, None, batch=1, size=32,
                           device=torch.device('cpu'), seed=0)
    dtypes = []
    for model in pair.models().values():
        model.register_forward_hook(
            lambda mod, inp, out: dtypes.append(out[0][0].dtype
                                                if mod is pair.cen else out[0].dtype))
    pair.set_mode('train')
    pair.train_step('cen')()
    pair.train_step('floor')()
    assert dtypes == [torch.float32, torch.float32]
    pair.amp = True
    for key in ('cen', 'floor'):
        pair.train_step(key)()
        pair.set_mode('infer')
        pair.infer_step(key)()
        pair.set_mode('train')
    assert dtypes[2:] == [torch.bfloat16] * 4
    assert all(p.dtype == torch.float32 for p in pair.cen.parameters())


def test_compiled_pair_matches_eager(bench, capsys):
    pair = bench.ModelPair('tiny', tiny_backbone(), True, None, batch=1, size=32,
                           device=torch.device('cpu'), seed=0)
    bench.set_exchange_fraction(pair.cen, 0.5, seed=0)
    pair.set_mode('infer')
    with torch.no_grad():
        eager = pair.cen(pair.cen_inputs)
    pair.compile('eager')  # dynamo only: the cheapest to compile
    assert all(type(f).__name__ == 'OptimizedModule' for f in pair.callables.values())
    with torch.no_grad():
        compiled = pair.callables['cen'](pair.cen_inputs)
    for a, b in zip(eager, compiled):
        for x, y in zip(a, b):
            torch.testing.assert_close(x, y, rtol=0, atol=0)
    # inference only (the graph compiled above): compiling training too takes minutes
    args = bench.parse_args(['--iters', '1', '--warmup', '0', '--exchange-fracs',
                             '0.5', '--no-memory', '--compile', 'eager',
                             '--phases', 'infer'])
    rows = bench.benchmark_pair(pair, args, torch.device('cpu'))
    assert [r['phase'] for r in rows] == ['infer']
    assert all(r['wall']['cen'] > 0 and r['wall']['floor'] > 0 for r in rows)


# ---- MultiStreamBackbone families: the floor is the stock backbone at batch M*N ------
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


@pytest.mark.parametrize('family', sorted(TINY_INNER))
def test_multi_stream_floor_is_the_stock_backbone(bench, family):
    inner_type = TINY_INNER[family]['type'].split('.')[1]
    pair = bench.ModelPair(family, tiny_multi_stream(family), True, None, batch=2,
                           size=32, device=torch.device('cpu'), seed=3)
    assert type(pair.cen).__name__ == 'MultiStreamBackbone'
    assert type(pair.floor).__name__ == inner_type
    assert len(list(iter_exchanging_norms(pair.cen))) > 0
    assert not list(iter_exchanging_norms(pair.floor))
    # same seed: every shared weight equals the stock backbone's
    floor_state = pair.floor.state_dict()
    shared = {k[len('backbone.'):]: v for k, v in pair.cen.state_dict().items()
              if '.norms.' not in k}
    assert shared.keys() <= floor_state.keys()
    assert all(torch.equal(v, floor_state[k]) for k, v in shared.items())
    # γ = 1 (nothing exchanged): stream m of CEN = the stock backbone on stream m's
    # input (depth tiled to 3 channels), rows m*N..(m+1)*N of the floor's batch
    pair.set_mode('infer')
    x = torch.randn(2, 4, 32, 32)
    with torch.no_grad():
        cen_out = pair.cen(x)
        floor_out = pair.floor(torch.cat([x[:, :3], x[:, 3:].repeat(1, 3, 1, 1)]))
    for m in range(2):
        for a, b in zip(cen_out[m], floor_out):
            torch.testing.assert_close(a, b[2 * m:2 * m + 2])
    cen_flops = bench.forward_flops(pair.infer_step('cen'))
    assert cen_flops > 0 and cen_flops == bench.forward_flops(pair.infer_step('floor'))


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
