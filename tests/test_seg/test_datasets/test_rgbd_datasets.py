"""NYUDv2Dataset / SUNRGBDDataset on a tiny converted layout, with LoadRGBDFromFile and
LoadRGBDAnnotations: decoded values, metainfo, and errors that name the sample."""
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest
from mmengine.registry import init_default_scope

import cen_mm  # noqa: F401  (registers the datasets and transforms)
from cen_mm.seg.datasets import NYUDv2Dataset, SUNRGBDDataset
from cen_mm.seg.datasets.depth_io import encode_sunrgbd_depth
from tests.fixtures.rgbd_data import (HOLE, SQUARE, depth_raw_of, label_of, rgb_of,
                                      write_converted_layout, write_gray, write_rgb)

META_KEYS = ('img_path', 'depth_path', 'ori_shape', 'img_shape', 'modality_channels')
PIPELINE = [
    dict(type='LoadRGBDFromFile'),
    dict(type='LoadRGBDAnnotations'),
    dict(type='PackSegInputs', meta_keys=META_KEYS),
]
PREFIX = dict(img_path='images/train', depth_path='depth/train',
              seg_map_path='annotations/train')


@pytest.fixture(autouse=True)
def mmseg_scope():
    init_default_scope('mmseg')


def nyud(root, pipeline=PIPELINE, **kwargs):
    return NYUDv2Dataset(data_root=str(root), data_prefix=PREFIX, pipeline=pipeline,
                         **kwargs)


@pytest.fixture
def root(tmp_path):
    return write_converted_layout(str(tmp_path / 'nyud'), [3, 4])


def test_metainfo_and_samples(root):
    ds = nyud(root)
    meta = ds.metainfo
    assert len(meta['classes']) == 40
    assert meta['classes'][:3] == ('wall', 'floor', 'cabinet')
    assert meta['classes'][-1] == 'otherprop'
    assert len(meta['palette']) == 40
    assert len({tuple(c) for c in meta['palette']}) == 40
    # VOC colour map entries 1, 2, 3 (index 0, black, is skipped).
    assert meta['palette'][:3] == [[128, 0, 0], [0, 128, 0], [128, 128, 0]]
    assert meta['modality_channels'] == (3, 1)
    assert len(ds) == 2
    info = ds.get_data_info(0)
    assert info['sample_name'] == '000003'
    assert info['depth_path'] == osp.join(root, 'depth', 'train', '000003.png')
    assert info['seg_map_path'] == osp.join(root, 'annotations', 'train', '000003.png')
    assert info['depth_encoding'] == dict(type='linear', scale=1 / 5000)
    assert info['num_classes'] == 40


def test_sample_values_depth_in_metres_and_label(root):
    sample = nyud(root)[1]  # sample 4
    inputs = sample['inputs'].numpy()
    assert inputs.shape == (4, 24, 32) and inputs.dtype == np.float32
    np.testing.assert_array_equal(inputs[:3].transpose(1, 2, 0), rgb_of(4))
    np.testing.assert_allclose(inputs[3], depth_raw_of(4) / 5000.0, rtol=1e-6)
    assert inputs[3][HOLE].max() == 0  # hole kept
    assert inputs[3][0, 10] == pytest.approx(1.4)  # (5000 + 500*4) / 5000
    assert inputs[3][SQUARE].min() == pytest.approx(2.8)
    gt = sample['data_samples'].gt_sem_seg.data.numpy()[0]
    np.testing.assert_array_equal(gt, label_of(4, 40))
    meta = sample['data_samples'].metainfo
    assert meta['modality_channels'] == (3, 1)
    assert meta['depth_path'].endswith('000004.png')


@pytest.mark.e2e
def test_hole_filling_uses_nearest_valid_depth(root):
    pipeline = [dict(type='LoadRGBDFromFile', hole_mode='fill', fill_method='nearest')]
    results = nyud(root, pipeline=pipeline)[0]
    depth = results['img'][..., 3]
    # The hole is in the top-left corner, surrounded by background (1.3 m for i=3).
    np.testing.assert_allclose(depth[HOLE], 1.3, rtol=1e-6)
    assert (depth > 0).all()


@pytest.mark.e2e
def test_explicit_encoding_and_meta_json(tmp_path):
    meta = json.dumps(dict(dataset='nyudv2',
                           depth_encoding=dict(type='linear', scale=0.001)))
    root = write_converted_layout(str(tmp_path / 'mm'), [3], meta=meta)
    pipeline = [dict(type='LoadRGBDFromFile')]
    depth = nyud(root, pipeline=pipeline)[0]['img'][..., 3]
    assert depth[0, 10] == pytest.approx(6.5)  # 6500 * 0.001 (meta.json wins)
    depth = nyud(root, pipeline=pipeline,
                 depth_encoding=dict(type='linear', scale=1e-4))[0]['img'][..., 3]
    assert depth[0, 10] == pytest.approx(0.65)  # explicit argument wins


def test_meta_json_of_another_dataset_is_refused(tmp_path):
    root = write_converted_layout(str(tmp_path / 'x'), [3],
                                  meta=json.dumps(dict(dataset='sunrgbd')))
    with pytest.raises(ValueError, match="'sunrgbd' dataset"):
        nyud(root)


@pytest.mark.e2e
def test_sunrgbd_dataset_decodes_its_own_encoding(tmp_path):
    root = str(tmp_path / 'sun')
    write_converted_layout(root, [2], num_classes=37)
    metres = np.full((24, 32), 2.345)
    metres[HOLE] = 0
    write_gray(osp.join(root, 'depth', 'train', '000002.png'),
               encode_sunrgbd_depth(metres))
    ds = SUNRGBDDataset(data_root=root, data_prefix=PREFIX, pipeline=PIPELINE)
    assert len(ds.metainfo['classes']) == 37
    assert ds.metainfo['classes'][-1] == 'bag'
    inputs = ds[0]['inputs'].numpy()
    np.testing.assert_allclose(inputs[3], metres, atol=1e-6)


def test_hha_input_gives_six_channels(root):
    write_rgb(osp.join(root, 'hha', 'train', '000003.png'), rgb_of(9))
    write_rgb(osp.join(root, 'hha', 'train', '000004.png'), rgb_of(9))
    prefix = dict(PREFIX, depth_path='hha/train')
    ds = NYUDv2Dataset(data_root=root, data_prefix=prefix, depth_type='hha',
                       pipeline=[dict(type='LoadRGBDFromFile', depth_type='hha')])
    assert ds.metainfo['modality_channels'] == (3, 3)
    results = ds[0]
    assert results['img'].shape == (24, 32, 6)
    np.testing.assert_array_equal(results['img'][..., 3:], rgb_of(9))
    assert results['modality_channels'] == (3, 3)


@pytest.mark.parametrize('folder,what', [('depth', 'depth'), ('annotations', 'label')])
def test_missing_depth_or_label_names_the_sample(root, folder, what):
    os.remove(osp.join(root, folder, 'train', '000004.png'))
    with pytest.raises(FileNotFoundError, match=f"sample '000004': {what} file"):
        nyud(root)


def test_empty_split_is_an_error(tmp_path):
    for folder in ('images', 'depth', 'annotations'):
        os.makedirs(tmp_path / 'e' / folder / 'train')
    with pytest.raises(ValueError, match='no samples'):
        nyud(tmp_path / 'e')


def test_size_mismatch_names_the_sample(root):
    write_gray(osp.join(root, 'depth', 'train', '000004.png'),
               np.ones((10, 10), np.uint16))
    ds = nyud(root)
    with pytest.raises(ValueError, match=r"sample '000004'.*32x24.*10x10"):
        ds[1]


@pytest.mark.e2e
def test_label_size_mismatch_names_the_sample(root):
    write_gray(osp.join(root, 'annotations', 'train', '000003.png'),
               np.zeros((10, 10), np.uint8))
    with pytest.raises(ValueError, match=r"sample '000003': label .* 10x10"):
        nyud(root)[0]


@pytest.mark.e2e
def test_label_outside_classes_names_the_sample(root):
    label = label_of(3, 40)
    label[0, 0] = 40  # classes are 0..39, 255 = ignore
    write_gray(osp.join(root, 'annotations', 'train', '000003.png'), label)
    with pytest.raises(ValueError, match=r"sample '000003'.*values \[40\]"):
        nyud(root)[0]


@pytest.mark.e2e
def test_unreadable_depth_png_names_the_sample(root):
    with open(osp.join(root, 'depth', 'train', '000003.png'), 'wb') as f:
        f.write(b'\x89PNG\r\n\x1a\n this is not really a png')
    with pytest.raises(ValueError, match=r"sample '000003': depth file .* cannot be "
                       'decoded'):
        nyud(root)[0]


@pytest.mark.e2e
def test_three_channel_depth_suggests_hha(root):
    write_rgb(osp.join(root, 'depth', 'train', '000003.png'), rgb_of(1))
    with pytest.raises(ValueError, match="depth_type='hha'"):
        nyud(root)[0]


def test_loader_without_encoding_or_depth_path_explains():
    from mmseg.registry import TRANSFORMS
    load = TRANSFORMS.build(dict(type='LoadRGBDFromFile'))
    with pytest.raises(KeyError, match='depth_path'):
        load(dict(img_path='a.png'))
    with pytest.raises(ValueError, match='depth_type'):
        TRANSFORMS.build(dict(type='LoadRGBDFromFile', depth_type='normals'))


def test_loader_reads_rgb_in_rgb_order(tmp_path):
    """A pure red file must give channel 0 = 255 (cv2 would give BGR)."""
    from mmseg.registry import TRANSFORMS
    red = np.zeros((4, 5, 3), np.uint8)
    red[..., 0] = 255
    write_rgb(str(tmp_path / 'r.png'), red)
    assert cv2.imread(str(tmp_path / 'r.png'))[0, 0, 2] == 255  # file is fine
    write_gray(str(tmp_path / 'd.png'), np.full((4, 5), 5000, np.uint16))
    load = TRANSFORMS.build(
        dict(type='LoadRGBDFromFile', depth_encoding=dict(type='linear', scale=2e-4)))
    img = load(dict(img_path=str(tmp_path / 'r.png'),
                    depth_path=str(tmp_path / 'd.png')))['img']
    np.testing.assert_array_equal(img[0, 0], [255, 0, 0, 1.0])
