"""CENTranslationInferencer and demo/translation_demo.py on the procedural demo config:
outputs equal CENPix2Pix.test_step on the same packed inputs; clear input errors."""
import os.path as osp
import sys

import cv2
import numpy as np
import pytest
import torch

from tests.fixtures.tools import ROOT, run

CONFIG = osp.join(ROOT, 'configs', 'cen_pix2pix',
                  'cen-pix2pix_demo_synth_rgb+edge-to-depth_cpu.py')
KEYS = ['depth_zbuffer', 'depth_zbuffer_from_rgb', 'depth_zbuffer_from_edge_occlusion']


def _image(seed, channels=3, size=64):
    rng = np.random.default_rng(seed)
    img = np.zeros((size, size, channels), np.uint8)
    img[:] = rng.integers(0, 256, channels)
    img[10:40, 20:50] = rng.integers(0, 256, channels)
    return img


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    from mmengine.config import Config
    from mmengine.registry import DefaultScope

    import cen_mm.translation  # noqa: F401
    from mmagic.registry import MODELS
    tmp = tmp_path_factory.mktemp('translation')
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmagic'):
        model = MODELS.build(Config.fromfile(CONFIG).model)
    model.init_weights()
    model.eval()
    ckpt = str(tmp / 'pix2pix.pth')
    torch.save(dict(state_dict=model.state_dict()), ckpt)
    from cen_mm.translation.apis import CENTranslationInferencer
    inferencer = CENTranslationInferencer(CONFIG, ckpt, device='cpu')
    return dict(tmp=tmp, model=model, ckpt=ckpt, inferencer=inferencer)


def _reference(model, rgb, edges):
    from mmengine.dataset import pseudo_collate

    from cen_mm.translation.datasets.transforms import PackDomains
    packed = PackDomains()(dict(domains=['rgb', 'edge_occlusion'],
                                img=[rgb[..., ::-1].copy(), edges[..., ::-1].copy()],
                                img_channel_order='BGR'))
    with torch.no_grad():
        out = model.test_step(pseudo_collate([packed]))[0]
    return {key: np.clip(np.round(out.get(f'fake_{key}').numpy()), 0, 255).astype(
        np.uint8).transpose(1, 2, 0)[..., ::-1] for key in KEYS}


def test_outputs_equal_test_step(setup):
    rgb, edges = _image(0), _image(1)
    result = setup['inferencer'](dict(rgb=rgb, edge_occlusion=edges))
    assert sorted(result['outputs']) == sorted(KEYS)
    ref = _reference(setup['model'], rgb, edges)
    for key in KEYS:
        assert result['outputs'][key].shape == (64, 64, 3)
        np.testing.assert_array_equal(result['outputs'][key], ref[key])
    # the two streams give different outputs, the ensemble mixes them
    assert not np.array_equal(ref[KEYS[1]], ref[KEYS[2]])


def test_files_and_gray_inputs(setup, tmp_path):
    rgb, edges = _image(2), _image(3, channels=1)
    rgb_path, edge_path = str(tmp_path / 'rgb.png'), str(tmp_path / 'edges.png')
    cv2.imwrite(rgb_path, rgb[..., ::-1])
    cv2.imwrite(edge_path, edges[..., 0])
    by_files = setup['inferencer'](dict(rgb=rgb_path, edge_occlusion=edge_path))
    ref = _reference(setup['model'], rgb, np.repeat(edges, 3, axis=2))
    for key in KEYS:
        np.testing.assert_array_equal(by_files['outputs'][key], ref[key])


@pytest.mark.parametrize('inputs, message', [
    (dict(rgb=_image(0)), 'missing input domain'),
    (dict(rgb=_image(0), edge_occlusion=_image(1), normal=_image(2)), 'unknown domain'),
    (dict(rgb=_image(0), edge_occlusion=_image(1, size=32)), 'size mismatch'),
    (dict(rgb=_image(0).astype(np.uint16), edge_occlusion=_image(1)), '8-bit'),
])
def test_bad_inputs(setup, inputs, message):
    with pytest.raises(ValueError, match=message):
        setup['inferencer'](inputs)


@pytest.mark.e2e
def test_demo_script(setup, tmp_path):
    rgb_path, edge_path = str(tmp_path / 'rgb.png'), str(tmp_path / 'e.png')
    cv2.imwrite(rgb_path, _image(4)[..., ::-1])
    cv2.imwrite(edge_path, _image(5)[..., ::-1])
    out = tmp_path / 'pic.png'
    run([sys.executable, 'demo/translation_demo.py', CONFIG, setup['ckpt'], '--input',
         f'rgb={rgb_path}', '--input', f'edge_occlusion={edge_path}', '--out-file',
         str(out), '--out-dir', str(tmp_path / 'outs')])
    picture = cv2.imread(str(out))
    assert picture.shape == (128 + 20, 5 * 128 + 4 * 4, 3)  # 2 inputs + 3 outputs
    ref = _reference(setup['model'], _image(4), _image(5))
    saved = cv2.imread(str(tmp_path / 'outs' / 'depth_zbuffer.png'))[..., ::-1]
    np.testing.assert_array_equal(saved, ref['depth_zbuffer'])
    bad = run([sys.executable, 'demo/translation_demo.py', CONFIG, setup['ckpt'],
               '--input', f'rgb={rgb_path}'], check=False)
    assert bad.returncode != 0 and 'missing input domain(s) edge_occlusion' in bad.stderr
