"""The stacked RGB-D image through mmseg's stock transforms and data preprocessor:
alignment of RGB, depth and label; RGB-only photometric distortion; 4-channel
normalisation; the real dataset configs' pipelines."""
import os.path as osp

import numpy as np
import pytest
from mmengine.registry import init_default_scope
import torch
from mmcv.transforms import Compose
from mmengine.config import Config
from scipy.ndimage import binary_erosion

import cen_mm  # noqa: F401
from mmseg.datasets.transforms import PhotoMetricDistortion
from mmseg.registry import DATASETS, MODELS, TRANSFORMS
from tests.fixtures.rgbd_data import write_converted_layout

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..', '..'))
SQ_LABEL, SQ_DEPTH, BG_DEPTH = 7, 2.0, 1.0


@pytest.fixture(autouse=True)
def mmseg_scope():
    init_default_scope('mmseg')


def square_sample(h=60, w=80, top=10, left=15, size=(20, 25), extra=1):
    """Stacked (H, W, 3 + extra) image: a white square labelled 7 on black; the extra
    channels are 2 (square) and 1 (elsewhere), like depth in metres."""
    img = np.zeros((h, w, 3 + extra), np.float32)
    img[..., 3:] = BG_DEPTH
    label = np.zeros((h, w), np.uint8)
    rows, cols = slice(top, top + size[0]), slice(left, left + size[1])
    img[rows, cols, :3] = 255
    img[rows, cols, 3:] = SQ_DEPTH
    label[rows, cols] = SQ_LABEL
    return dict(img=img, gt_seg_map=label, seg_fields=['gt_seg_map'],
                img_shape=(h, w), ori_shape=(h, w), modality_channels=(3, extra))


def bbox(mask):
    rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    return (rows[0], rows[-1], cols[0], cols[-1]) if rows.size else None


@pytest.mark.parametrize('extra', [1, 3], ids=['depth', 'hha'])
def test_square_stays_aligned_through_resize_crop_flip(extra):
    pipeline = Compose([
        dict(type='RandomResize', scale=(80, 60), ratio_range=(0.5, 2.0),
             keep_ratio=True),
        dict(type='RandomCrop', crop_size=(40, 50)),
        dict(type='RandomFlip', prob=0.5, direction=['horizontal', 'vertical']),
    ])
    np.random.seed(0)
    flips = set()
    checked = 0
    for _ in range(40):
        out = pipeline(square_sample(extra=extra))
        img, label = out['img'], out['gt_seg_map']
        assert img.shape[2] == 3 + extra and img.dtype == np.float32
        assert img.shape[:2] == label.shape
        flips.add(out['flip_direction'] if out['flip'] else None)
        in_label = bbox(label == SQ_LABEL)
        in_rgb = bbox(img[..., 0] > 127.5)
        in_depth = bbox(img[..., -1] > (SQ_DEPTH + BG_DEPTH) / 2)
        if in_label is None:
            assert in_rgb is None and in_depth is None
            continue
        checked += 1
        # Bilinear image vs nearest label: boundaries agree within one pixel.
        assert np.abs(np.subtract(in_rgb, in_label)).max() <= 1, (in_rgb, in_label)
        assert np.abs(np.subtract(in_depth, in_label)).max() <= 1
        # The interior is exact: RGB white and depth 2 m where the label is 7, two pixels
        # away from the boundary (cv2's nearest-neighbour resize of the label is not
        # centre-aligned like its bilinear resize of the image: up to 1 px offset).
        inner = binary_erosion(label == SQ_LABEL, iterations=2)
        if inner.any():
            np.testing.assert_allclose(img[inner, :3], 255, atol=1e-3)
            np.testing.assert_allclose(img[inner, 3:], SQ_DEPTH, atol=1e-5)
    assert checked >= 20
    assert {None, 'horizontal', 'vertical'} <= flips


def test_flip_is_exact_on_every_channel():
    sample = square_sample()
    ref_img, ref_label = sample['img'].copy(), sample['gt_seg_map'].copy()
    out = TRANSFORMS.build(dict(type='RandomFlip', prob=1.0,
                                direction='horizontal'))(sample)
    np.testing.assert_array_equal(out['img'], ref_img[:, ::-1])
    np.testing.assert_array_equal(out['gt_seg_map'], ref_label[:, ::-1])


def _rgbd_with_texture(seed=0):
    rng = np.random.default_rng(seed)
    img = np.concatenate([rng.integers(0, 256, (30, 40, 3)).astype(np.float32),
                          rng.uniform(0.5, 5, (30, 40, 1)).astype(np.float32)], 2)
    return img


@pytest.mark.parametrize('seed', range(6))
def test_photometric_distortion_changes_rgb_only_like_the_stock_one(seed):
    img = _rgbd_with_texture(seed)
    original = img.copy()
    ours = TRANSFORMS.build(dict(type='RGBOnlyPhotoMetricDistortion'))
    np.random.seed(seed)
    out = ours(dict(img=img, modality_channels=(3, 1)))['img']
    # Reference: mmseg's transform on the same pixels as a uint8 BGR image, same draws.
    np.random.seed(seed)
    bgr = original[..., 2::-1].astype(np.uint8)
    ref = PhotoMetricDistortion().transform(dict(img=bgr))['img'][..., ::-1]
    assert out.dtype == np.float32 and out.shape == (30, 40, 4)
    np.testing.assert_array_equal(out[..., :3], ref)
    np.testing.assert_array_equal(out[..., 3], original[..., 3])  # depth untouched
    np.testing.assert_array_equal(img, original)  # input not modified in place


def test_photometric_distortion_does_change_rgb():
    ours = TRANSFORMS.build(dict(type='RGBOnlyPhotoMetricDistortion'))
    changed = 0
    np.random.seed(1)
    for _ in range(10):
        img = _rgbd_with_texture()
        out = ours(dict(img=img.copy()))['img']
        changed += not np.array_equal(out[..., :3], img[..., :3])
        np.testing.assert_array_equal(out[..., 3], img[..., 3])
    assert changed >= 8


def test_photometric_distortion_refuses_non_rgb_first():
    ours = TRANSFORMS.build(dict(type='RGBOnlyPhotoMetricDistortion'))
    with pytest.raises(ValueError, match='RGB'):
        ours(dict(img=np.zeros((4, 4, 4), np.float32), modality_channels=(1, 3)))


def test_preprocessor_normalises_four_channels_and_pads():
    cfg = Config.fromfile(osp.join(REPO, 'configs/_base_/datasets/nyud_rgbd.py'))
    pre_cfg = dict(cfg.rgbd_data_preprocessor, size=(8, 10))
    pre = MODELS.build(pre_cfg)
    img = torch.tensor(_rgbd_with_texture()[:6, :7].transpose(2, 0, 1).copy())
    from mmseg.structures import SegDataSample
    from mmengine.structures import PixelData
    sample = SegDataSample()
    sample.gt_sem_seg = PixelData(data=torch.zeros(1, 6, 7, dtype=torch.long))
    out = pre(dict(inputs=[img], data_samples=[sample]), training=True)['inputs'][0]
    assert out.shape == (4, 8, 10)
    mean = torch.tensor([123.675, 116.28, 103.53, 0.0]).view(4, 1, 1)
    std = torch.tensor([58.395, 57.12, 57.375, 1.0]).view(4, 1, 1)
    torch.testing.assert_close(out[:, :6, :7], (img - mean) / std)  # RGB order kept
    torch.testing.assert_close(out[3, :6, :7], img[3])  # depth in metres as is
    assert (out[:, 6:, :] == 0).all() and (out[:, :, 7:] == 0).all()


@pytest.mark.e2e
@pytest.mark.parametrize('config,dataset_cls,num_classes', [
    ('nyud_rgbd.py', 'NYUDv2Dataset', 40), ('sunrgbd_rgbd.py', 'SUNRGBDDataset', 37)])
def test_dataset_configs_build_and_run(tmp_path, config, dataset_cls, num_classes):
    cfg = Config.fromfile(osp.join(REPO, 'configs/_base_/datasets', config))
    root = str(tmp_path / 'data')
    for split in ('train', 'test'):
        write_converted_layout(root, [1, 2], split=split, num_classes=num_classes)
    if dataset_cls == 'SUNRGBDDataset':  # the fixture stores depth as value/5000
        with open(osp.join(root, 'meta.json'), 'w') as f:
            f.write('{"dataset": "sunrgbd", "depth_encoding": '
                    '{"type": "linear", "scale": 0.0002}}')
    assert cfg.crop_size == (500, 500)
    assert cfg.train_dataloader.batch_size == 6
    for loader in ('train_dataloader', 'val_dataloader'):
        ds_cfg = dict(cfg[loader].dataset, data_root=root)
        ds = DATASETS.build(ds_cfg)
        assert type(ds).__name__ == dataset_cls
        sample = ds[0]
        inputs = sample['inputs']
        assert inputs.shape[0] == 4
        meta = sample['data_samples'].metainfo
        assert meta['modality_channels'] == (3, 1)
        gt = sample['data_samples'].gt_sem_seg.data
        assert gt.shape[1:] == inputs.shape[1:]
    # TTA pipeline: 6 scales x 2 flips, labels at the original size.
    tta = Compose(cfg.tta_pipeline)
    info = DATASETS.build(dict(cfg.val_dataloader.dataset, data_root=root,
                               pipeline=[])).get_data_info(0)
    out = tta(info)
    assert len(out['inputs']) == 12
    assert {tuple(x.shape[1:]) for x in out['inputs']} >= {(12, 16), (24, 32), (42, 56)}
    assert all(s.gt_sem_seg.data.shape[1:] == (24, 32) for s in out['data_samples'])
