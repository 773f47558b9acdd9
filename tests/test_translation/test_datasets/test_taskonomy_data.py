"""TaskonomyDataset / LoadTaskonomyDomains / PackDomains against hand-made PNG fixtures
(8-bit RGB, 8-bit gray, 16-bit depth and edges), the shared random augmentation, and the
synthetic multi-domain scenes."""
import os.path as osp

import numpy as np
import pytest
from PIL import Image

import cen_mm.translation  # noqa: F401
from cen_mm.translation.datasets import (SynthMultiDomainDataset, TaskonomyDataset,
                                         decode_domain, domain_decoding,
                                         render_synth_domains)

VIEWS = ('point_0_view_1', 'point_7_view_3')

@pytest.fixture(autouse=True, scope='module')
def mmagic_default_scope():
    """Pipelines/metrics resolve their types in mmagic's registries (configs set
    default_scope='mmagic')."""
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('mmagic'):
        yield



def _save(root, domain, view, array):
    folder = osp.join(root, domain)
    import os
    os.makedirs(folder, exist_ok=True)
    Image.fromarray(array).save(osp.join(folder, f'{view}_domain_{domain}.png'))


def make_fixture(root, size=6):
    """Two views in five domains with hand-chosen pixel values."""
    rng = np.random.default_rng(0)
    for k, view in enumerate(VIEWS):
        _save(root, 'rgb', view, rng.integers(0, 256, (size, size, 3), dtype=np.uint8))
        gray = np.full((size, size), 40 + k, np.uint8)
        gray[0, 0] = 200
        _save(root, 'reshading', view, gray)  # 8-bit single channel
        depth = np.full((size, size), 1000, np.uint16)
        depth[0, :3] = [0, 30000, 65535]     # 65535: Taskonomy's invalid depth
        _save(root, 'depth_euclidean', view, depth)
        edge = np.full((size, size), 5000, np.uint16)
        edge[1, :2] = [11355, 20000]
        _save(root, 'edge_texture', view, edge)
    with open(osp.join(root, 'list.txt'), 'w') as f:
        for view in VIEWS:
            f.write(f'{{domain}}/{view}_domain_{{domain}}.png\n')
        f.write('\n')
    return root


def test_16bit_png_fixture_reads_back_as_uint16(tmp_path):
    make_fixture(str(tmp_path))
    with Image.open(tmp_path / 'depth_euclidean' /
                    f'{VIEWS[0]}_domain_depth_euclidean.png') as img:
        arr = np.array(img)
    assert arr.dtype == np.uint16 and arr[0, 2] == 65535


@pytest.mark.e2e
def test_dataset_and_decoding_against_hand_computed_values(tmp_path):
    root = make_fixture(str(tmp_path))
    domains = ['rgb', 'reshading', 'depth_euclidean', 'edge_texture']
    ds = TaskonomyDataset(
        ann_file='list.txt', data_root=root, domains=domains,
        pipeline=[dict(type='LoadTaskonomyDomains'), dict(type='PackDomains')])
    assert len(ds) == 2
    info = ds.get_data_info(1)
    assert info['sample_name'] == 'point_7_view_3'
    assert info['img_depth_euclidean_path'] == osp.join(
        root, 'depth_euclidean', 'point_7_view_3_domain_depth_euclidean.png')

    item = ds[1]
    inputs = {k: v.numpy() for k, v in item['inputs'].items()}
    assert sorted(inputs) == sorted(f'img_{d}' for d in domains)
    assert all(v.shape == (3, 6, 6) and v.dtype == np.uint8 for v in inputs.values())
    rgb = np.array(Image.open(osp.join(root, 'rgb', 'point_7_view_3_domain_rgb.png')))
    # BGR channel order, as every image in mmagic
    assert np.array_equal(inputs['img_rgb'], rgb[..., ::-1].transpose(2, 0, 1))
    # gray -> the same value in all three channels
    assert np.all(inputs['img_reshading'][:, 0, 0] == 200)
    assert np.all(inputs['img_reshading'][:, 1:, :] == 41)
    # depth: floor(log(1 + v) * 255 / 11.1), invalid 65535 -> 254 ("far", the papers')
    #   v = 0 -> 0; 30000 -> 10.30899 * 22.9730 = 236.83; 1000 -> 6.90875 * 22.973 = 158.7
    depth = inputs['img_depth_euclidean']
    assert np.all(depth[:, 0, :3] == np.array([0, 236, 254])[None])
    assert np.all(depth[:, 1:, :] == 158)
    # edge_texture: floor(v * 255 / 11355), clipped:
    #   5000 -> 112.28, 11355 -> 255, 20000 -> 255
    edge = inputs['img_edge_texture']
    assert np.all(edge[:, 1, :3] == np.array([255, 255, 112])[None])
    assert np.all(edge[:, 3:, :] == 112)
    # metainfo for mmagic's data preprocessor and the visualiser
    meta = item['data_samples'].metainfo
    assert meta['sample_name'] == 'point_7_view_3'
    assert meta['img_depth_euclidean_channel_order'] == 'BGR'
    assert meta['img_rgb_path'].endswith('point_7_view_3_domain_rgb.png')


@pytest.mark.e2e
def test_missing_files_and_size_mismatch_are_reported(tmp_path):
    root = make_fixture(str(tmp_path))
    with pytest.raises(FileNotFoundError, match=r'normal: 2 missing, e\.g\. .*'
                       r'normal/point_0_view_1_domain_normal\.png'):
        TaskonomyDataset(ann_file='list.txt', data_root=root, domains=['rgb', 'normal'])
    _save(root, 'rgb', VIEWS[0], np.zeros((8, 8, 3), np.uint8))
    ds = TaskonomyDataset(ann_file='list.txt', data_root=root,
                          domains=['rgb', 'reshading'],
                          pipeline=[dict(type='LoadTaskonomyDomains')])
    with pytest.raises(ValueError, match=r"sample 'point_0_view_1'.*different sizes.*"
                       r"'rgb': \(8, 8\).*'reshading': \(6, 6\)"):
        ds[0]
    with open(osp.join(root, 'bad.txt'), 'w') as f:
        f.write('rgb/point_0_view_1_domain_rgb.png\n')
    with pytest.raises(ValueError, match=r"bad\.txt:1: expected a path template"):
        TaskonomyDataset(ann_file='bad.txt', data_root=root, domains=['rgb'])


def test_decoding_errors_and_overrides():
    with pytest.raises(ValueError, match="domain 'keypoints2d'.*uint16 but has no "
                       'decoding range'):
        decode_domain(np.zeros((2, 2), np.uint16), 'keypoints2d',
                      domain_decoding('keypoints2d'))
    spec = domain_decoding('keypoints2d', dict(keypoints2d=dict(min=0, max=1000)))
    out = decode_domain(np.array([[0, 500], [1000, 4000]], np.uint16), 'keypoints2d',
                        spec)
    assert out.shape == (2, 2, 3) and np.array_equal(out[..., 1], [[0, 127], [255, 255]])
    with pytest.raises(ValueError, match='1- or 3-channel'):
        decode_domain(np.zeros((2, 2, 4), np.uint8), 'rgb', {})
    with pytest.raises(ValueError, match='unknown keys'):
        domain_decoding('rgb', dict(rgb=dict(scale=2)))
    # any other depth domain gets the official log scaling
    assert domain_decoding('depth_zbuffer')['log1p'] is True


@pytest.mark.e2e
def test_train_augmentation_is_identical_across_domains(tmp_path):
    """rgb and normal hold the same picture: after random resize/crop/flip they must
    still be equal, while the crops/flips themselves vary between samples."""
    root = str(tmp_path)
    yy, xx = np.mgrid[0:48, 0:48]
    picture = np.stack([xx * 5, yy * 5, (xx + yy) * 2], 2).astype(np.uint8)
    views = [f'point_{i}_view_0' for i in range(8)]
    for view in views:
        for domain in ('rgb', 'normal'):
            _save(root, domain, view, picture)
    with open(osp.join(root, 'list.txt'), 'w') as f:
        f.writelines(f'{{domain}}/{v}_domain_{{domain}}.png\n' for v in views)
    pipeline = [
        dict(type='LoadTaskonomyDomains'),
        dict(type='Resize', keys=['img'], scale=(40, 40), interpolation='bilinear',
             backend='pillow'),
        dict(type='FixedCrop', keys=['img'], crop_size=(32, 32)),
        dict(type='Flip', keys=['img'], flip_ratio=0.5, direction='horizontal'),
        dict(type='PackDomains'),
    ]
    ds = TaskonomyDataset(ann_file='list.txt', data_root=root, domains=['rgb', 'normal'],
                          pipeline=pipeline)
    np.random.seed(0)
    crops = set()
    for i in range(len(ds)):
        inputs = ds[i]['inputs']
        assert inputs['img_rgb'].shape == (3, 32, 32)
        assert np.array_equal(inputs['img_rgb'].numpy(), inputs['img_normal'].numpy())
        crops.add(inputs['img_rgb'].numpy().tobytes())
    assert len(crops) > 2  # the augmentation is random, so the check above is not vacuous


@pytest.mark.e2e
def test_synthetic_scenes_are_deterministic_and_consistent():
    a = render_synth_domains(5, 32)
    b = render_synth_domains(5, 32)
    c = render_synth_domains(6, 32)
    assert all(np.array_equal(a[d], b[d]) for d in a)
    assert not np.array_equal(a['rgb'], c['rgb'])
    assert all(v.shape == (32, 32, 3) and v.dtype == np.uint8 for v in a.values())
    depth = a['depth_zbuffer'][..., 0].astype(float)
    normal = a['normal'].astype(int)
    assert normal[..., 2].min() >= 128  # every normal faces the camera (n_z > 0)
    ds = SynthMultiDomainDataset(
        num_samples=3, domains=['rgb', 'depth_zbuffer'], seed=5,
        pipeline=[dict(type='LoadSynthDomains', size=32), dict(type='PackDomains')])
    assert np.array_equal(ds[0]['inputs']['img_rgb'].numpy(),
                          a['rgb'][..., ::-1].transpose(2, 0, 1))
    assert ds[2]['data_samples'].metainfo['sample_name'] == 'synth_000007'
    assert depth.std() > 0
    with pytest.raises(ValueError, match="no domain\\(s\\) \\['segment_semantic'\\]"):
        render_synth_domains(0, 32, ['segment_semantic'])
