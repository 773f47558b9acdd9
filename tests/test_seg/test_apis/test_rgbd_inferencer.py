"""RGBDSegInferencer: file / array / folder inputs give the predictions of the model's own
test_step on the same stacked input; depth encodings; clear errors; outputs on disk."""
import os.path as osp

import cv2
import numpy as np
import pytest

from tests.fixtures.rgbd_demo import (DEMO, H, W, demo_model, depth_raw,
                                           reference_predictions, rgb_image,
                                           save_checkpoint, write_pair)


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    from cen_mm.seg.apis import RGBDSegInferencer
    tmp = tmp_path_factory.mktemp('rgbd_inferencer')
    model = demo_model()
    ckpt = save_checkpoint(model, str(tmp / 'demo.pth'))
    inferencer = RGBDSegInferencer(DEMO, ckpt, device='cpu')
    rgb_path, depth_path = write_pair(tmp / 'data', 'scene0', seed=0)
    write_pair(tmp / 'data', 'scene1', seed=1)
    return dict(tmp=tmp, model=model, ckpt=ckpt, inferencer=inferencer,
                rgb=rgb_path, depth=depth_path)


def _stacked(seed=0, scale=1 / 1000):
    depth = depth_raw(seed).astype(np.float32) * np.float32(scale)
    return np.concatenate([rgb_image(seed).astype(np.float32), depth[..., None]], 2)


def test_files_equal_model_test_step(setup):
    inf = setup['inferencer']
    # the demo config has no depth encoding: 16-bit millimetres is the default
    assert inf.loader.depth_encoding == dict(type='linear', scale=1 / 1000)
    assert inf.modality_names == ('rgb', 'depth')
    result = inf(dict(rgb=setup['rgb'], depth=setup['depth']))
    ens, streams = reference_predictions(setup['model'], _stacked(0))
    assert result['predictions'].shape == (H, W)
    np.testing.assert_array_equal(result['predictions'], ens)
    assert len(result['stream_predictions']) == 2
    for got, ref in zip(result['stream_predictions'], streams):
        np.testing.assert_array_equal(got, ref)
    # the streams see different modalities: their predictions differ
    assert not np.array_equal(streams[0], streams[1])


def test_arrays_tuple_list_and_stacked_inputs_agree(setup):
    inf = setup['inferencer']
    ref = inf(dict(rgb=setup['rgb'], depth=setup['depth']))['predictions']
    metres = depth_raw(0).astype(np.float32) / 1000
    by_arrays = inf((rgb_image(0), metres))['predictions']  # float depth = metres
    by_uint16 = inf([rgb_image(0), depth_raw(0)])['predictions']  # decoded as mm
    by_stack = inf(_stacked(0))['predictions']
    by_files = inf((setup['rgb'], setup['depth']))['predictions']
    for got in (by_arrays, by_uint16, by_stack, by_files):
        np.testing.assert_array_equal(got, ref)


def test_explicit_depth_encoding_is_used(setup):
    from cen_mm.seg.apis import RGBDSegInferencer
    inf = RGBDSegInferencer(DEMO, setup['ckpt'], device='cpu',
                            depth_encoding=dict(type='linear', scale=1 / 5000))
    got = inf(dict(rgb=setup['rgb'], depth=setup['depth']))['predictions']
    ens, _ = reference_predictions(setup['model'], _stacked(0, scale=1 / 5000))
    np.testing.assert_array_equal(got, ens)


@pytest.mark.e2e
def test_folder_input_pairs_by_name_and_writes_outputs(setup):
    inf = setup['inferencer']
    data, out = setup['tmp'] / 'data', setup['tmp'] / 'out'
    result = inf(dict(rgb=str(data / 'rgb'), depth=str(data / 'depth')),
                 out_dir=str(out))
    assert len(result['predictions']) == 2
    for i, name in enumerate(('scene0', 'scene1')):
        ens, streams = reference_predictions(setup['model'], _stacked(i))
        np.testing.assert_array_equal(result['predictions'][i], ens)
        saved = cv2.imread(str(out / 'pred' / f'{name}.png'), cv2.IMREAD_UNCHANGED)
        np.testing.assert_array_equal(saved, ens)
        for m in range(2):
            saved = cv2.imread(str(out / 'pred' / f's{m}' / f'{name}.png'),
                               cv2.IMREAD_UNCHANGED)
            np.testing.assert_array_equal(saved, streams[m])
        picture = cv2.imread(str(out / 'vis' / f'{name}.png'))
        assert picture is not None and picture.shape[0] > H


def test_visualization_panels(setup):
    inf = setup['inferencer']
    sample = dict(rgb=setup['rgb'], depth=setup['depth'])
    full = inf(sample, return_vis=True)['visualization']
    ens_only = inf(sample, return_vis=True, draw_streams=False)['visualization']
    with_exchange = inf(sample, return_vis=True, show_exchange=True)['visualization']
    # panels are enlarged by an integer factor to >= 192 px, 4 px gaps between them
    scale = int(np.ceil(192 / min(H, W)))
    panel_w = W * scale
    assert full.shape[1] == 5 * panel_w + 4 * 4  # rgb, depth, ensemble, s0, s1
    assert ens_only.shape[1] == 3 * panel_w + 2 * 4  # rgb, depth, ensemble
    assert with_exchange.shape[0] > full.shape[0]  # + the exchange bar chart
    # the RGB panel is the input image (nearest upscaling), below the title strip
    rgb_panel = full[22:22 + H * scale, :panel_w]
    np.testing.assert_array_equal(rgb_panel[::scale, ::scale], rgb_image(0))
    # the depth hole (0) is black, valid depth is coloured
    depth_panel = full[22:22 + H * scale, panel_w + 4:2 * panel_w + 4]
    assert (depth_panel[0] == 0).all(axis=-1)[:5 * scale].all()
    assert depth_panel[-1, -1].any()


def test_exchange_fraction_matches_model(setup):
    from cen_mm.engine.hooks.exchange_stats_hook import exchange_stats_record
    layers = exchange_stats_record(setup['inferencer'].model)['layers']
    # one layer of stream 0 had its whole sub-part set below theta in the fixture
    first = layers[0]
    assert first['exchanged'][0] == pytest.approx(0.5, abs=0.02)


@pytest.mark.parametrize('make_inputs, message', [
    (lambda s: s['rgb'], 'needs 2 inputs per sample'),
    (lambda s: dict(rgb=s['rgb']), 'missing depth'),
    (lambda s: dict(rgb=s['rgb'], depth=s['depth'], hha=s['rgb']), 'unknown keys hha'),
    (lambda s: (rgb_image(0), None), "missing modality 'depth'"),
    (lambda s: (rgb_image(0)[..., :2], depth_raw(0)), 'has 2 channels'),
    (lambda s: (rgb_image(0).astype(np.uint16), depth_raw(0)), '16-bit'),
    (lambda s: (rgb_image(0), np.stack([depth_raw(0)] * 3, 2)), 'single-channel depth'),
    (lambda s: (rgb_image(0), depth_raw(0)[:20]), 'size mismatch'),
])
def test_bad_inputs_raise_clear_errors(setup, make_inputs, message):
    with pytest.raises(ValueError, match=message):
        setup['inferencer'](make_inputs(setup))


def test_bad_files_raise_clear_errors(setup, tmp_path):
    inf = setup['inferencer']
    rgb16 = str(tmp_path / 'rgb16.png')
    cv2.imwrite(rgb16, (rgb_image(0).astype(np.uint16) * 257)[..., ::-1])
    with pytest.raises(ValueError, match=r'rgb input .*rgb16.png has uint16 .*16-bit'):
        inf(dict(rgb=rgb16, depth=setup['depth']))
    depth8 = str(tmp_path / 'depth8.png')
    cv2.imwrite(depth8, (depth_raw(0) // 20).astype(np.uint8))
    from cen_mm.seg.apis import RGBDSegInferencer
    nyu = RGBDSegInferencer(DEMO, setup['ckpt'], device='cpu',
                            depth_encoding=dict(type='linear', scale=1 / 5000))
    with pytest.raises(ValueError, match='expected a 16-bit depth PNG'):
        nyu(dict(rgb=setup['rgb'], depth=depth8))
    with pytest.raises(FileNotFoundError, match='depth file .*nope.png not found'):
        inf(dict(rgb=setup['rgb'], depth=str(tmp_path / 'nope.png')))
    # a folder pair with a missing depth file names the sample
    data = tmp_path / 'folders'
    write_pair(data, 'a')
    write_pair(data, 'b')
    (data / 'depth' / 'b.png').unlink()
    with pytest.raises(ValueError, match="missing modality for 'b'"):
        inf(dict(rgb=str(data / 'rgb'), depth=str(data / 'depth')))


def test_classes_from_config_without_checkpoint_meta(setup, tmp_path):
    from cen_mm.seg.apis import RGBDSegInferencer
    from cen_mm.seg.datasets.synth_scenes import SYNTH_CLASSES
    ckpt = save_checkpoint(setup['model'], str(tmp_path / 'nometa.pth'),
                           with_meta=False)
    inf = RGBDSegInferencer(DEMO, ckpt, device='cpu')
    assert list(inf.model.dataset_meta['classes']) == list(SYNTH_CLASSES)


def test_model_by_metafile_name(setup):
    from cen_mm.seg.apis import RGBDSegInferencer
    inf = RGBDSegInferencer('cen_demo_refinenet_r18_synthrgbd', setup['ckpt'],
                            device='cpu')
    got = inf(dict(rgb=setup['rgb'], depth=setup['depth']))['predictions']
    np.testing.assert_array_equal(got, reference_predictions(setup['model'],
                                                             _stacked(0))[0])
    with pytest.raises(ValueError, match='neither a config file nor a model name'):
        RGBDSegInferencer('no_such_model', setup['ckpt'], device='cpu')


@pytest.mark.e2e
def test_demo_script_writes_picture(setup, tmp_path):
    """demo/rgbd_demo.py as a user runs it (subprocess)."""
    from tests.fixtures.tools import run
    out = tmp_path / 'demo.png'
    proc = run([__import__('sys').executable, 'demo/rgbd_demo.py', setup['rgb'],
                setup['depth'], DEMO, setup['ckpt'], '--out-file', str(out),
                '--show-streams', '--show-exchange', '--pred-dir',
                str(tmp_path / 'pred')])
    assert 'wrote' in proc.stdout
    picture = cv2.imread(str(out))
    scale = int(np.ceil(192 / min(H, W)))
    assert picture.shape[1] == 5 * W * scale + 16
    ens, _ = reference_predictions(setup['model'], _stacked(0))
    saved = cv2.imread(str(tmp_path / 'pred' / 'scene0.png'), cv2.IMREAD_UNCHANGED)
    np.testing.assert_array_equal(saved, ens)
    bad = run([__import__('sys').executable, 'demo/rgbd_demo.py', setup['rgb'],
               str(tmp_path / 'missing.png'), DEMO, setup['ckpt']], check=False)
    assert bad.returncode != 0 and 'depth input' in bad.stderr
    assert not osp.exists(tmp_path / 'rgbd_demo.png')


def test_nyudv2_config_loader_replaced_and_its_depth_encoding_used(setup):
    """A file-based config (LoadRGBDFromFile + LoadRGBDAnnotations in its test
    pipeline): the loader is replaced, annotations dropped, and NYUDv2's depth
    encoding (1/5000) is the default."""
    from mmengine.config import Config

    from cen_mm.seg.apis import RGBDSegInferencer
    from tests.fixtures.tools import ROOT
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'cen', 'refinenet_r101_nyud.py'))
    cfg.model.backbone.update(depth=18, base_channels=8, stem_channels=8,
                              init_cfg=None, norm_eval=False)
    cfg.model.decode_head.update(in_channels=(8, 16, 32, 64),
                                 stage_channels=(16, 8, 8, 8), dropout_ratio=0.0)
    inf = RGBDSegInferencer(cfg, None, device='cpu')
    types = [t.__class__.__name__ for t in inf.pipeline.transforms]
    assert types == ['RGBDInferencerLoader', 'PackSegInputs']
    assert inf.loader.depth_encoding == dict(type='linear', scale=1 / 5000)
    assert len(inf.model.dataset_meta['classes']) == 40  # NYUDv2's, not Cityscapes'
    result = inf(dict(rgb=setup['rgb'], depth=setup['depth']))
    ens, streams = reference_predictions(inf.model, _stacked(0, scale=1 / 5000))
    np.testing.assert_array_equal(result['predictions'], ens)
    np.testing.assert_array_equal(result['stream_predictions'][1], streams[1])


def test_demo_script_folders(setup, tmp_path):
    """Folder input: one picture per RGB/depth pair, named after the files."""
    import importlib.util

    from tests.fixtures.tools import ROOT
    spec = importlib.util.spec_from_file_location(
        'rgbd_demo', osp.join(ROOT, 'demo', 'rgbd_demo.py'))
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    data, out = setup['tmp'] / 'data', tmp_path / 'pictures'
    demo.main([str(data / 'rgb'), str(data / 'depth'), DEMO, setup['ckpt'],
               '--out-file', str(out), '--depth-encoding', '1/1000'])
    assert sorted(p.name for p in out.iterdir()) == ['scene0.png', 'scene1.png']
    scale = int(np.ceil(192 / min(H, W)))
    assert cv2.imread(str(out / 'scene1.png')).shape[1] == 3 * W * scale + 8
    assert demo.parse_depth_encoding('1/5000') == dict(type='linear', scale=1 / 5000)
    assert demo.parse_depth_encoding('sunrgbd') == dict(type='sunrgbd')
    with pytest.raises(Exception, match='metres per stored unit'):
        demo.parse_depth_encoding('deep')
    with pytest.raises(SystemExit, match='both be files or both be folders'):
        demo.main([str(data / 'rgb'), setup['depth'], DEMO, setup['ckpt']])


@pytest.mark.e2e
def test_demo_script_cfg_options(setup, tmp_path):
    """--cfg-options reach the model (here: exchange switched off)."""
    import importlib.util

    from cen_mm.core import iter_exchanging_norms
    from tests.fixtures.tools import ROOT
    spec = importlib.util.spec_from_file_location(
        'rgbd_demo', osp.join(ROOT, 'demo', 'rgbd_demo.py'))
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    demo.main([setup['rgb'], setup['depth'], DEMO, setup['ckpt'], '--out-file',
               str(tmp_path / 'p.png'), '--pred-dir', str(tmp_path / 'pred'),
               '--cfg-options', 'model.backbone.exchange_threshold=0'])
    reference = demo_model()
    for _, norm in iter_exchanging_norms(reference):
        norm.threshold = 0.0
    ens, streams = reference_predictions(reference, _stacked(0))
    saved = cv2.imread(str(tmp_path / 'pred' / 's0' / 'scene0.png'), cv2.IMREAD_UNCHANGED)
    np.testing.assert_array_equal(saved, streams[0])
    with_exchange = reference_predictions(setup['model'], _stacked(0))[1][0]
    assert not np.array_equal(saved, with_exchange)  # the option changed the model
