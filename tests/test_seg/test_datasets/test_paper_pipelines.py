"""Issue #17 item 6: the paper configs resize as the official CEN code (RGB bicubic,
depth nearest: holes stay holes) and apply no photometric distortion; the previous
pipeline (bilinear on all channels + RGB jitter) stays available as an option."""
import os.path as osp

import cv2
import numpy as np
import pytest
from mmcv.transforms import Compose
from mmengine.config import Config
from mmengine.registry import DefaultScope

import cen_mm  # noqa: F401
from cen_mm.seg.datasets.transforms import ModalityResize
from tests.fixtures.tools import ROOT

PAPER_CONFIGS = ['refinenet_r101_nyud', 'refinenet_r152_nyud', 'pspnet_r101_nyud',
                 'pspnet_r152_nyud', 'refinenet_r101_sunrgbd', 'refinenet_r152_sunrgbd',
                 'pspnet_r152_sunrgbd']
DEPTH_LEVELS = (0, 6000, 9000, 15000)  # stored uint16 values; 0 = hole
H, W = 30, 40


def _load(name):
    return Config.fromfile(osp.join(ROOT, 'configs', 'cen', name + '.py'))


def _types(pipeline):
    return [t['type'] for t in pipeline]


@pytest.mark.parametrize('name', PAPER_CONFIGS)
def test_paper_config_pipelines_follow_the_official_code(name):
    cfg = _load(name)
    train = cfg.train_dataloader.dataset.pipeline
    assert not any('PhotoMetric' in t for t in _types(train))
    (resize, ) = [t for t in train if 'Resize' in t['type']]
    assert resize['type'] == 'RandomResize'
    assert resize['resize_type'] == 'ModalityResize'
    assert tuple(resize['interpolations']) == ('bicubic', 'nearest')  # RGB, depth
    # multi-scale test: the same per-modality interpolations
    (tta, ) = [t for t in cfg.tta_pipeline if t['type'] == 'TestTimeAug']
    for t in tta['transforms'][0]:
        assert t['type'] == 'ModalityResize'
        assert tuple(t['interpolations']) == ('bicubic', 'nearest')
    # the pre-#17 pipeline, documented as an option
    jitter = cfg.jitter_train_pipeline
    assert 'RGBOnlyPhotoMetricDistortion' in _types(jitter)


def _write_sample(root):
    """RGB with sharp colour edges, depth with four levels incl. holes, a label."""
    rng = np.random.default_rng(0)
    blocks = rng.integers(0, 4, (H // 5, W // 5))
    levels = np.kron(blocks, np.ones((5, 5), int))
    depth = np.array(DEPTH_LEVELS, np.uint16)[levels]
    rgb = np.stack([(levels * 80) % 256, 255 - levels * 60, np.full_like(levels, 7)],
                   axis=2).astype(np.uint8)
    label = (levels % 3).astype(np.uint8)
    paths = {k: osp.join(root, f'{k}.png') for k in ('rgb', 'depth', 'label')}
    assert cv2.imwrite(paths['rgb'], rgb[..., ::-1])
    assert cv2.imwrite(paths['depth'], depth)
    assert cv2.imwrite(paths['label'], label)
    return paths


def _run(pipeline, paths, seed):
    results = dict(img_path=paths['rgb'], depth_path=paths['depth'],
                   seg_map_path=paths['label'], seg_fields=[],
                   reduce_zero_label=False,
                   depth_encoding=dict(type='linear', scale=1 / 5000),
                   num_classes=3, ignore_index=255)
    np.random.seed(seed)
    with DefaultScope.overwrite_default_scope('mmseg'):
        out = Compose(pipeline)(results)
    inputs = out['inputs'].numpy()
    return inputs[:3], inputs[3], out['data_samples'].gt_sem_seg.data[0].numpy()


@pytest.mark.parametrize('name', ['refinenet_r101_nyud', 'pspnet_r152_sunrgbd'])
def test_paper_pipeline_keeps_depth_holes_and_values(name, tmp_path):
    cfg = _load(name)
    paths = _write_sample(str(tmp_path))
    metres = {v / 5000 for v in DEPTH_LEVELS}
    jitter_new_depths = 0
    for seed in range(3):
        rgb, depth, label = _run(cfg.train_dataloader.dataset.pipeline, paths, seed)
        assert depth.shape == label.shape and depth.shape[0] > H  # upscaled, cropped
        # nearest: only stored depths, holes stay exact zeros
        values = np.unique(depth)
        assert all(min(abs(v - m) for m in metres) < 1e-6 for v in values), values
        assert (depth == 0).any()
        assert rgb.min() >= 0 and rgb.max() <= 255  # bicubic clipped as uint8 RGB
        assert set(np.unique(label)) <= {0, 1, 2}
        # the option: bilinear blends depth across holes and borders
        _, depth_j, _ = _run(cfg.jitter_train_pipeline, paths, seed)
        jitter_new_depths += sum(min(abs(v - m) for m in metres) > 1e-3
                                 for v in np.unique(depth_j))
    assert jitter_new_depths > 0


def test_modality_resize_per_modality_against_cv2():
    rng = np.random.default_rng(1)
    img = np.concatenate([rng.uniform(0, 255, (9, 13, 3)),
                          rng.choice([0.0, 1.5, 3.0], (9, 13, 1))],
                         axis=2).astype(np.float32)
    seg = rng.integers(0, 3, (9, 13)).astype(np.uint8)
    t = ModalityResize(scale=(26, 18), keep_ratio=False,
                       interpolations=('bicubic', 'nearest'),
                       value_ranges=((0, 255), None))
    out = t(dict(img=img.copy(), gt_seg_map=seg, seg_fields=['gt_seg_map'],
                 modality_channels=(3, 1)))
    rgb = np.clip(cv2.resize(img[..., :3], (26, 18), interpolation=cv2.INTER_CUBIC),
                  0, 255)
    depth = cv2.resize(img[..., 3], (26, 18), interpolation=cv2.INTER_NEAREST)
    np.testing.assert_array_equal(out['img'][..., :3], rgb)
    np.testing.assert_array_equal(out['img'][..., 3], depth)
    np.testing.assert_array_equal(
        out['gt_seg_map'], cv2.resize(seg, (26, 18), interpolation=cv2.INTER_NEAREST))
    assert out['img_shape'] == (18, 26) and out['scale_factor'] == (2.0, 2.0)
    # keep_ratio: one common size for all modalities
    out = ModalityResize(scale_factor=0.5, keep_ratio=True)(
        dict(img=img.copy(), modality_channels=(3, 1)))
    assert out['img'].shape == (5, 7, 4)


def test_modality_resize_errors_name_the_problem():
    img = np.zeros((4, 4, 4), np.float32)
    with pytest.raises(KeyError, match='modality_channels'):
        ModalityResize(scale=(8, 8))(dict(img=img))
    with pytest.raises(ValueError, match='does not match'):
        ModalityResize(scale=(8, 8))(dict(img=img, modality_channels=(3, 3)))
    with pytest.raises(ValueError, match='interpolations'):
        ModalityResize(scale=(8, 8), interpolation='bilinear')
    with pytest.raises(ValueError, match='interpolations'):
        ModalityResize(scale=(8, 8), interpolations=('cubic', 'nearest'))
