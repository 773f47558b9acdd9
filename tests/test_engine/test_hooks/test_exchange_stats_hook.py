"""ExchangeStatsHook and tools/analysis_tools/plot_exchange.py.

The statistics are checked against numbers worked out by hand from the γ values set in
``tests/fixtures/cen_hook_toys.py``; a real Runner checks the log, the JSON-lines file
and the figures.
"""
import glob
import importlib.util
import json
import os.path as osp
import sys
import types
import uuid

import numpy as np
import pytest
from mmengine.logging import MessageHub
from PIL import Image

from cen_mm.engine.hooks import (ExchangeStatsHook, exchange_stats_record,
                                 load_exchange_records)
from cen_mm.engine.hooks.exchange_plots import (draw_exchange_heatmap,
                                                draw_gamma_histograms,
                                                figure_to_rgb)
from tests.fixtures.cen_hook_toys import (GAMMA_A, GAMMA_B, TwoBranchCEN,
                                          make_runner)
from tests.fixtures.tools import ROOT, run

# Worked out by hand (see the γ tables in the fixture):
# layer a (θ=0.02, sub-part exchange): s0 exchanges ch0 (0.01; ch3=0.001 is not its
#   own), s1 exchanges ch2 (-0.015; ch1=0.005 is not its own).
# layer b (θ=0.1, exchange_mode='all'): s0 ch0 (0.05); s1 ch1 (0.05) and ch3 (0.09);
#   s2 ch3 (0.0).
HAND = {
    'a': dict(num_exchanged=[1, 1], exchanged=[0.25, 0.25],
              gamma_subpart_abs_mean=[(0.01 + 0.5) / 2, (0.015 + 0.4) / 2],
              gamma_outside_abs_mean=[(0.3 + 0.001) / 2, (0.2 + 0.005) / 2]),
    'b': dict(num_exchanged=[1, 2, 1], exchanged=[0.2, 0.4, 0.2],
              gamma_subpart_abs_mean=[0.05, (0.05 + 0.5) / 2, (0.0 + 0.5) / 2],
              gamma_outside_abs_mean=[0.5, (0.5 + 0.09 + 0.5) / 3, 0.5]),
}
HAND_OVERALL = (1 + 1 + 1 + 2 + 1) / (2 * 4 + 3 * 5)


def check_against_hand(record, rel=1e-6):
    assert [layer['name'] for layer in record['layers']] == ['a', 'b']  # not 'plain'
    assert record['overall_exchanged'] == pytest.approx(HAND_OVERALL, rel=1e-12)
    for layer in record['layers']:
        hand = HAND[layer['name']]
        assert layer['num_exchanged'] == hand['num_exchanged']
        for key in ('exchanged', 'gamma_subpart_abs_mean', 'gamma_outside_abs_mean'):
            assert layer[key] == pytest.approx(hand[key], rel=rel), key


def png_is_nontrivial(path):
    image = np.asarray(Image.open(path).convert('RGB'))
    assert image.shape[0] > 100 and image.shape[1] > 100
    colours = np.unique(image.reshape(-1, 3), axis=0)
    assert len(colours) > 20, f'{path} has only {len(colours)} colours'
    return image


def test_record_matches_hand_numbers():
    record = exchange_stats_record(TwoBranchCEN(), gamma_digits=None)
    check_against_hand(record)
    a, b = record['layers']
    assert (a['num_streams'], a['num_channels'], b['num_streams'],
            b['num_channels']) == (2, 4, 3, 5)
    assert a['threshold'] == pytest.approx(0.02) and b['exchange_mode'] == 'all'
    np.testing.assert_allclose(a['gamma'], GAMMA_A, rtol=1e-6)
    np.testing.assert_allclose(b['gamma'], GAMMA_B, rtol=1e-6)


def _stub_runner(tmp_path, model):
    return types.SimpleNamespace(
        model=model, work_dir=str(tmp_path), epoch=3, iter=6, timestamp='run1',
        message_hub=MessageHub.get_instance(f'stats_test_{uuid.uuid4().hex[:8]}'))


@pytest.mark.parametrize('record_gamma', [True, False])
def test_hook_record_goes_to_message_hub_and_jsonl(tmp_path, record_gamma):
    runner = _stub_runner(tmp_path, TwoBranchCEN())
    hook = ExchangeStatsHook(record_gamma=record_gamma,
                             stream_names=['rgb', 'depth', 'hha'])
    hook.record(runner, 7)
    hub = runner.message_hub
    assert hub.get_scalar('train/exchanged_frac').current() == pytest.approx(
        HAND_OVERALL)
    assert hub.get_scalar('train/exchanged_frac/b/depth').current() == 0.4
    assert hub.get_scalar('train/gamma_sub_abs/a/rgb').current() == pytest.approx(
        0.255, rel=1e-6)
    assert hub.get_scalar('train/gamma_out_abs/b/depth').current() == pytest.approx(
        1.09 / 3, rel=1e-6)
    assert hub.get_scalar('train/exchanged_frac/b/hha').current() == 0.2
    lines = open(tmp_path / 'exchange_stats.jsonl').read().splitlines()
    assert len(lines) == 1
    stored = json.loads(lines[0])
    assert (stored['iter'], stored['epoch'], stored['timestamp']) == (7, 3, 'run1')
    check_against_hand(stored)
    has_gamma = ['gamma' in layer for layer in stored['layers']]
    assert has_gamma == [record_gamma] * 2
    if record_gamma:  # 4 significant digits
        assert stored['layers'][0]['gamma'][1] == [-0.2, 0.005, -0.015, 0.4]


def test_load_records_resume_and_restart(tmp_path):
    path = tmp_path / 'exchange_stats.jsonl'

    def line(it, run_name):
        return json.dumps(dict(iter=it, timestamp=run_name, layers=[])) + '\n'

    with open(path, 'w') as f:
        f.writelines([line(i, 'r1') for i in (0, 10, 20, 30)])
        f.writelines([line(i, 'r2') for i in (20, 30, 40)])  # resumed from 20
    recs = load_exchange_records(str(path))
    assert [(r['iter'], r['timestamp']) for r in recs] == [
        (0, 'r1'), (10, 'r1'), (20, 'r2'), (30, 'r2'), (40, 'r2')]
    with open(path, 'a') as f:
        f.writelines([line(i, 'r3') for i in (0, 10)])  # new run from scratch
    assert [(r['iter'], r['timestamp']) for r in load_exchange_records(str(path))] \
        == [(0, 'r3'), (10, 'r3')]
    with open(path, 'a') as f:
        f.write('{"iter": 20, "lay')
    with pytest.raises(ValueError, match=r'exchange_stats.jsonl:10'):
        load_exchange_records(str(path))
    with pytest.raises(FileNotFoundError, match='ExchangeStatsHook'):
        load_exchange_records(str(tmp_path / 'missing.jsonl'))


@pytest.mark.e2e
def test_figures_from_hand_record(tmp_path):
    record = dict(iter=5, **exchange_stats_record(TwoBranchCEN()))
    heat = figure_to_rgb(draw_exchange_heatmap(record, ['rgb', 'depth']))
    hist = figure_to_rgb(draw_gamma_histograms(record))
    for image in (heat, hist):
        assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
        assert len(np.unique(image.reshape(-1, 3), axis=0)) > 20
    no_gamma = dict(record, layers=[{k: v for k, v in la.items() if k != 'gamma'}
                                    for la in record['layers']])
    with pytest.raises(ValueError, match='record_gamma=False'):
        draw_gamma_histograms(no_gamma)


def test_bad_arguments():
    with pytest.raises(ValueError, match='interval'):
        ExchangeStatsHook(interval=0)
    with pytest.raises(ValueError, match='stream_names'):
        ExchangeStatsHook(stream_names=['rgb', ''])


def _load_plot_tool():
    path = osp.join(ROOT, 'tools', 'analysis_tools', 'plot_exchange.py')
    spec = importlib.util.spec_from_file_location('plot_exchange_tool', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def trained_work_dir(tmp_path_factory):
    work_dir = tmp_path_factory.mktemp('stats_run')
    runner = make_runner(work_dir, [
        dict(type='ExchangeStatsHook', interval=2),
        dict(type='CENSparsityHook', lambda_=0.05),
    ], max_iters=4, val_interval=2)
    runner.train()
    return work_dir, runner


@pytest.mark.e2e
def test_runner_jsonl_log_and_figures(trained_work_dir):
    work_dir, runner = trained_work_dir
    records = load_exchange_records(str(work_dir / 'exchange_stats.jsonl'))
    assert [r['iter'] for r in records] == [0, 2, 4]
    now = exchange_stats_record(runner.model)
    last = records[-1]
    assert [la['name'] for la in last['layers']] == ['norm1', 'norm2']
    for got, want in zip(last['layers'], now['layers']):
        assert got['num_exchanged'] == want['num_exchanged']
        assert got['gamma_subpart_abs_mean'] == pytest.approx(
            want['gamma_subpart_abs_mean'], rel=1e-6)
        np.testing.assert_allclose(got['gamma'], want['gamma'], rtol=1e-3)
    # the hand-set small γ of ToyCENModel are exchanged at the start
    assert records[0]['layers'][0]['num_exchanged'] == [2, 1]
    assert records[0]['layers'][1]['num_exchanged'] == [0, 0, 1]
    assert records[0]['overall_exchanged'] == pytest.approx(4 / (2 * 8 + 3 * 6))

    log_dir = glob.glob(str(work_dir / '*' / 'vis_data'))[0]
    scalars = [json.loads(x) for x in open(osp.join(log_dir, 'scalars.json'))]
    at2 = [s for s in scalars if s.get('step') == 2 and 'exchanged_frac' in s][0]
    assert at2['exchanged_frac'] == pytest.approx(records[1]['overall_exchanged'])
    assert at2['exchanged_frac/norm2/s2'] == pytest.approx(
        records[1]['layers'][1]['exchanged'][2])
    text = open(glob.glob(str(work_dir / '*' / '*.log'))[0]).read()
    assert 'exchanged_frac/norm1/s0' in text and 'gamma_sub_abs/norm2/s1' in text

    for it in (2, 4):  # validation at 2 and 4, end of training at 4
        for tag in ('exchange_heatmap', 'gamma_hist'):
            png_is_nontrivial(work_dir / 'exchange_plots' / f'{tag}_iter{it}.png')
            assert osp.isfile(osp.join(log_dir, 'vis_image', f'{tag}_{it}.png'))


@pytest.mark.e2e
def test_plot_tool(trained_work_dir, tmp_path, capsys):
    work_dir, _ = trained_work_dir
    tool = _load_plot_tool()
    out = tmp_path / 'plots'
    assert tool.main([str(work_dir), '--out', str(out), '--channels', 'norm1:0:0-1',
                      '1:2:5', '--layers', '0']) == 0
    for name in ('exchanged_fraction.png', 'gamma_trajectories.png',
                 'exchange_heatmap_last.png'):
        png_is_nontrivial(out / name)
    # default channel choice (no --channels) also works
    assert tool.main([str(work_dir), '--out', str(tmp_path / 'p2')]) == 0
    png_is_nontrivial(tmp_path / 'p2' / 'gamma_trajectories.png')
    # bad channel specs name the problem
    assert tool.main([str(work_dir), '--out', str(out), '--channels', '0:5:0']) == 1
    assert 'has 2 streams' in capsys.readouterr().err
    assert tool.main([str(work_dir), '--out', str(out), '--channels', 'nope:0:0']) == 1
    assert "unknown layer 'nope'" in capsys.readouterr().err
    # and the channel specs resolve as documented
    layers = load_exchange_records(str(work_dir / 'exchange_stats.jsonl'))[-1]['layers']
    assert tool.parse_channel_specs(['norm2:1:2-4', '-1:0:0'], layers) == [
        (1, 1, 2), (1, 1, 3), (1, 1, 4), (1, 0, 0)]


@pytest.mark.e2e
def test_plot_tool_missing_file_message(tmp_path):
    proc = run([sys.executable, 'tools/analysis_tools/plot_exchange.py',
                str(tmp_path)], check=False, timeout=300)
    assert proc.returncode == 1
    assert str(tmp_path / 'exchange_stats.jsonl') in proc.stderr
    assert "dict(type='ExchangeStatsHook')" in proc.stderr


def test_gamma_histogram_survives_diverged_run():
    """NaN/inf γ (a diverged run) must not crash the plot (and so the training run)."""
    from cen_mm.engine.hooks.exchange_plots import draw_gamma_histograms
    nan, inf = float('nan'), float('inf')
    record = {'iter': 3, 'layers': [{
        'gamma': [[nan, 1.0, 0.01, 0.5], [0.2, inf, 0.3, 0.001]],
        'num_channels': 4, 'num_streams': 2, 'threshold': 0.02}]}
    fig = draw_gamma_histograms(record)
    assert '2 non-finite γ not shown' in fig._suptitle.get_text()
    # the finite values are all plotted: 3 per stream (own + other sub-part bars)
    for ax in fig.axes[:2]:
        assert sum(p.get_height() for p in ax.patches) == 3
