"""tools/analysis_tools/get_flops_cen.py: FLOPs/params of M-stream configs.

Shared convolutions make an M-stream CEN model do M times the arithmetic of one stream
(the streams are stacked on the batch axis); its extra parameters are the private
norms of the other streams and the ensemble weights."""
import json
import sys

import pytest
from mmengine.config import Config

from tests.fixtures.tools import ROOT, run

DEMO = f'{ROOT}/configs/cen/demo_refinenet_r18_synthrgbd.py'


def _tool():
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        'get_flops_cen', f'{ROOT}/tools/analysis_tools/get_flops_cen.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.e2e
def test_flops_scale_with_streams_and_params_add_up():
    tool = _tool()
    two = tool.complexity(Config.fromfile(DEMO), (32, 32))
    cfg = Config.fromfile(DEMO)
    cfg.model.backbone.in_channels = (3, )
    cfg.model.backbone.exchange = False  # one stream: nothing to exchange with
    one = tool.complexity(cfg, (32, 32))
    assert two['input_shape'] == [1, 4, 32, 32] and two['num_streams'] == 2
    assert one['input_shape'] == [1, 3, 32, 32] and one['num_streams'] == 1
    assert two['flops'] > 0
    # backbone + decode head hold nearly all counted FLOPs (the rest: the ensemble)
    assert 0 <= two['flops'] - sum(two['flops_by_part'].values()) < 1e-3 * two['flops']
    # the ensemble adds a few elementwise ops at most
    assert two['flops'] == pytest.approx(2 * one['flops'], rel=1e-3)
    p2, p1 = two['params'], one['params']
    assert p2['backbone_shared'] == p1['backbone_shared']
    assert p2['backbone_private_norms'] == 2 * p1['backbone_private_norms']
    assert p2['decode_head'] == p1['decode_head']
    # + alpha (2,); a one-stream model has no ensemble weights
    assert p2['total'] - p1['total'] == p1['backbone_private_norms'] + 2
    assert p2['total'] == (p2['backbone'] + p2['decode_head'] + p2['ensemble_alpha'])


@pytest.mark.e2e
def test_cli_on_demo_config_writes_json(tmp_path):
    out = tmp_path / 'flops.json'
    proc = run([sys.executable, 'tools/analysis_tools/get_flops_cen.py', DEMO,
                '--shape', '48', '64', '--json', str(out), '--cfg-options',
                'model.decode_head.num_classes=7'])
    data = json.loads(out.read_text())
    assert data['input_shape'] == [1, 4, 48, 64]
    assert data['modality_channels'] == [3, 1]
    tool = _tool()
    cfg = Config.fromfile(DEMO)
    cfg.model.decode_head.num_classes = 7  # --cfg-options reached the model
    assert data['params'] == tool.parameter_breakdown(tool.build_model(cfg))
    assert f"{data['params']['total'] / 1e6:.2f} M" in proc.stdout
    assert 'FLOPs (one forward, all streams + ensemble)' in proc.stdout


def test_paper_parameter_count_is_reported():
    tool = _tool()
    assert tool.PAPER_PARAMS['refinenet_r101_nyud.py'][0] == 118.2
    text = tool.report(dict(config='refinenet_r101_nyud.py', input_shape=[1, 4, 8, 8],
                            modality_channels=[3, 1], num_streams=2, flops=10,
                            flops_per_stream=5, activations=1,
                            params=dict(total=118_200_000)))
    assert 'paper: 118.2 M parameters' in text and 'measured 118.2 M' in text


PIX2PIX_DEMO = f'{ROOT}/configs/cen_pix2pix/cen-pix2pix_demo_synth_rgb+edge-to-depth_cpu.py'


@pytest.mark.e2e
def test_translation_generator_flops_scale_with_streams():
    """CEN U-Net: convs shared by the input streams, stacked on the batch axis, so
    two input streams cost twice one stream's FLOPs; the extra parameters are one
    more stream's private encoder norms (and the ensemble weights)."""
    tool = _tool()
    two = tool.complexity(Config.fromfile(PIX2PIX_DEMO))
    cfg = Config.fromfile(PIX2PIX_DEMO)
    cfg.model.tasks = [dict(inputs=['rgb'], target='depth_zbuffer')]
    one = tool.complexity(cfg)
    assert two['input_shape'] == [2, 3, 64, 64] and one['input_shape'] == [1, 3, 64, 64]
    assert two['flops'] == pytest.approx(2 * one['flops'], rel=1e-3)
    p2, p1 = two['params'], one['params']
    assert p2['generator_shared'] - p1['generator_shared'] in (0, 1, 2)  # alpha
    # one more stream's encoder norms (the decoder's norms do not depend on M)
    assert 0 < p2['generator_private_norms'] - p1['generator_private_norms'] < \
        p1['generator_private_norms']
    assert p2['discriminators'] == p1['discriminators']
    assert tool.paper_params('cen-pix2pix_cycle-dec1_rgb+depth+normal_taskonomy.py')[0] \
        == 54.5
    assert tool.paper_params(
        'cen-pix2pix_multitask-cen-dec_rgb-to-semseg+depth+normal_taskonomy.py')[0] == 124.3
