"""The procedural demo set: determinism, sample structure, and the class design
(colour-only classes share their depth distribution, depth-only classes their colour)."""
import os.path as osp

import numpy as np
import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope

import cen_mm  # noqa: F401
from cen_mm.seg.datasets import SynthRGBDDataset
from cen_mm.seg.datasets.synth_scenes import (COLOUR_ONLY_PAIR, DEPTH_ONLY_PAIR,
                                              SYNTH_CLASSES, render_scene)
from mmseg.registry import DATASETS

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..', '..'))


@pytest.fixture(autouse=True)
def mmseg_scope():
    init_default_scope('mmseg')


@pytest.mark.e2e
def test_same_arguments_same_data_and_splits_differ():
    a = SynthRGBDDataset(split='train', num_samples=3, image_size=32, seed=5)
    b = SynthRGBDDataset(split='train', num_samples=3, image_size=32, seed=5)
    for i in range(3):
        ia, ib = a.get_data_info(i), b.get_data_info(i)
        np.testing.assert_array_equal(ia['img'], ib['img'])
        np.testing.assert_array_equal(ia['gt_seg_map'], ib['gt_seg_map'])
    val = SynthRGBDDataset(split='val', num_samples=3, image_size=32, seed=5)
    other_seed = SynthRGBDDataset(split='train', num_samples=3, image_size=32, seed=6)
    for ds in (val, other_seed):
        assert not np.array_equal(ds.get_data_info(0)['img'], a.get_data_info(0)['img'])
    # Rendering is a pure function of (seed, split, index): order of access is irrelevant.
    np.testing.assert_array_equal(a.get_data_info(2)['img'],
                                  SynthRGBDDataset(split='train', num_samples=3,
                                                   image_size=32,
                                                   seed=5).get_data_info(2)['img'])


@pytest.mark.e2e
def test_sample_structure_matches_the_real_datasets():
    ds = SynthRGBDDataset(num_samples=2, image_size=48, pipeline=[
        dict(type='RandomFlip', prob=1.0),
        dict(type='PackSegInputs', meta_keys=('img_path', 'ori_shape', 'img_shape',
                                              'flip', 'modality_channels'))])
    assert ds.metainfo['classes'] == SYNTH_CLASSES
    assert ds.metainfo['modality_channels'] == (3, 1)
    info = ds.get_data_info(0)
    img, label = info['img'], info['gt_seg_map']
    assert img.shape == (48, 48, 4) and img.dtype == np.float32
    assert label.shape == (48, 48) and label.dtype == np.uint8
    assert set(np.unique(label)) <= set(range(len(SYNTH_CLASSES)))
    assert 0 <= img[..., :3].min() and img[..., :3].max() <= 255
    depth = img[..., 3]
    assert (depth == 0).any() and 1.0 < depth[depth > 0].mean() < 4.5
    packed = ds[0]
    np.testing.assert_array_equal(packed['inputs'].numpy().transpose(1, 2, 0),
                                  img[:, ::-1])
    np.testing.assert_array_equal(packed['data_samples'].gt_sem_seg.data[0].numpy(),
                                  label[:, ::-1])
    assert packed['data_samples'].metainfo['modality_channels'] == (3, 1)


@pytest.mark.e2e
def test_hole_filling_option():
    keep = SynthRGBDDataset(num_samples=1, image_size=32).get_data_info(0)['img']
    fill = SynthRGBDDataset(num_samples=1, image_size=32,
                            hole_mode='fill').get_data_info(0)['img']
    assert (keep[..., 3] == 0).any() and (fill[..., 3] > 0).all()
    valid = keep[..., 3] > 0
    np.testing.assert_array_equal(fill[..., 3][valid], keep[..., 3][valid])
    np.testing.assert_array_equal(fill[..., :3], keep[..., :3])


@pytest.fixture(scope='module')
def object_features():
    """Per object-class lists of (chromaticity r, g, relief) from 150 scenes.

    relief = median valid depth of the class pixels minus the median valid depth of the
    background ring around them (negative: towards the camera).
    """
    feats = {c: [] for c in range(1, len(SYNTH_CLASSES))}
    for i in range(150):
        rgb, depth, label = render_scene(np.random.default_rng([123, i]), 64)
        rgb = rgb.astype(np.float64)
        for c in feats:
            mask = label == c
            if mask.sum() < 30:
                continue
            ys, xs = np.nonzero(mask)
            ring = np.zeros_like(mask)
            ring[max(ys.min() - 4, 0):ys.max() + 5, max(xs.min() - 4, 0):xs.max() + 5] = 1
            ring &= label == 0
            d_obj, d_bg = depth[mask], depth[ring]
            d_obj, d_bg = d_obj[d_obj > 0], d_bg[d_bg > 0]
            if d_obj.size < 10 or d_bg.size < 10:
                continue
            total = rgb[mask].sum(1) + 1e-6
            chroma = (rgb[mask] / total[:, None])[:, :2].mean(0)
            feats[c].append((chroma[0], chroma[1], np.median(d_obj) - np.median(d_bg)))
    return {c: np.array(v) for c, v in feats.items()}


def test_colour_only_classes_share_depth_and_differ_in_colour(object_features):
    a, b = (object_features[c] for c in COLOUR_ONLY_PAIR)
    assert len(a) > 30 and len(b) > 30
    # Depth relief: same distribution (means within 0.06 m, both towards the camera).
    assert abs(a[:, 2].mean() - b[:, 2].mean()) < 0.06
    assert a[:, 2].mean() < -0.3 and b[:, 2].mean() < -0.3
    # Colour: the chromaticities do not overlap at all.
    assert a[:, 0].min() > b[:, 0].max() + 0.2  # red vs blue


def test_depth_only_classes_share_colour_and_differ_in_depth(object_features):
    a, b = (object_features[c] for c in DEPTH_ONLY_PAIR)
    assert len(a) > 30 and len(b) > 30
    # Colour: same chromaticity distribution (means within 0.01, ranges overlap).
    np.testing.assert_allclose(a[:, :2].mean(0), b[:, :2].mean(0), atol=0.01)
    # Depth relief: bump towards the camera, dent away, separated.
    assert a[:, 2].max() < 0 < b[:, 2].min()


def test_nuisances_are_present():
    """RGB brightness varies a lot between scenes; depth has noise and holes."""
    brightness, holes, noise = [], [], []
    for i in range(40):
        rgb, depth, label = render_scene(np.random.default_rng([7, i]), 64)
        brightness.append(rgb[label == 0].mean())
        holes.append((depth == 0).mean())
        bg = depth[(label == 0) & (depth > 0)]
        # the background is a plane: residual of a least-squares plane fit = noise
        ys, xs = np.nonzero((label == 0) & (depth > 0))
        design = np.stack([xs, ys, np.ones_like(xs)], 1).astype(np.float64)
        coef, *_ = np.linalg.lstsq(design, bg, rcond=None)
        noise.append(np.std(bg - design @ coef))
    assert max(brightness) > 2 * min(brightness)
    assert 0.02 < np.mean(holes) < 0.3 and min(holes) > 0
    assert 0.005 < np.mean(noise) < 0.06


@pytest.mark.e2e
def test_demo_config_datasets_and_normalisation():
    cfg = Config.fromfile(osp.join(REPO, 'configs/_base_/datasets/synth_rgbd.py'))
    train = DATASETS.build(cfg.train_dataloader.dataset)
    val = DATASETS.build(cfg.val_dataloader.dataset)
    assert isinstance(train, SynthRGBDDataset) and val.split == 'val'
    imgs = np.stack([train.get_data_info(i)['img'] for i in range(64)])
    mean = imgs.reshape(-1, 4).mean(0)
    std = imgs.reshape(-1, 4).std(0)
    pre = cfg.rgbd_data_preprocessor
    np.testing.assert_allclose(pre['mean'], mean, rtol=0.08)
    np.testing.assert_allclose(pre['std'], std, rtol=0.12)
    sample = train[0]
    assert sample['inputs'].shape == (4, cfg.crop_size[0], cfg.crop_size[1])
    assert sample['data_samples'].metainfo['modality_channels'] == (3, 1)
