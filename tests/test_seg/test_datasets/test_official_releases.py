"""Converters from the official releases (NYUDv2 labeled .mat, SUN RGB-D release tree)
and the HHA folder tool, on tiny fixtures written in the official formats: a MATLAB
v7.3-like HDF5 (512-byte MATLAB header, column-major arrays as h5py shows them, cell
arrays as object references) and v5 .mat files written with scipy.io.savemat."""
import json
import os
import os.path as osp
import runpy
import sys

import cv2
import numpy as np
import pytest
import scipy.io
from mmengine.registry import init_default_scope

h5py = pytest.importorskip('h5py')

import cen_mm  # noqa: E402,F401  (registers the datasets and transforms)
from cen_mm.seg.datasets.conversion import ConversionError  # noqa: E402
from cen_mm.seg.datasets.depth_io import decode_depth, encode_sunrgbd_depth  # noqa: E402
from cen_mm.seg.datasets.hha import (NYUDV2_INTRINSICS, CameraIntrinsics,  # noqa: E402
                                     depth_to_hha, intrinsics_for)
from cen_mm.seg.datasets.official import hha_folder, nyudv2_mat  # noqa: E402
from cen_mm.seg.datasets.official.hha_folder import write_hha_folder  # noqa: E402
from cen_mm.seg.datasets.official.nyudv2_mat import convert_nyudv2_mat  # noqa: E402
from cen_mm.seg.datasets.official.sunrgbd_release import (  # noqa: E402
    convert_sunrgbd_release, frame_key)

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..', '..'))
NYU_W, NYU_H, NYU_N = 20, 14, 5
MATLAB_HEADER = (b'MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Mon Nov 30 2026 '
                 b'HDF5 schema 1.00 .')


def run_tool(script, argv):
    """Run tools/dataset_converters/SCRIPT as ``python SCRIPT ARGV``; its exit code."""
    tool = osp.join(REPO, 'tools', 'dataset_converters', script)
    old = sys.argv
    sys.argv = [tool] + list(argv)
    try:
        with pytest.raises(SystemExit) as exit_info:
            runpy.run_path(tool, run_name='__main__')
    finally:
        sys.argv = old
    return exit_info.value.code


def read(path, flag=cv2.IMREAD_UNCHANGED):
    return cv2.imread(path, flag)


def matlab_h5(path):
    """An h5py file laid out like MATLAB v7.3 writes it (512-byte text header)."""
    f = h5py.File(path, 'w', userblock_size=512)
    return f


def finish_matlab_h5(path):
    with open(path, 'r+b') as f:
        f.write(MATLAB_HEADER.ljust(128, b' '))


# ---------------------------------------------------------------------------------------
# NYUDv2 fixture
# ---------------------------------------------------------------------------------------
def nyu_rgb(i):
    """(H, W, 3) uint8, asymmetric in x and y so a wrong transpose shows."""
    y, x = np.mgrid[:NYU_H, :NYU_W]
    return np.stack([x * 12 + i, y * 17, np.full_like(x, 40 * i)], -1).astype(np.uint8)


def nyu_depth(i, raw):
    """(H, W) float32 metres; raw depth has holes (0) in the top-left corner."""
    y, x = np.mgrid[:NYU_H, :NYU_W]
    d = (1.0 + 0.1 * i + 0.05 * x + 0.02 * y).astype(np.float32)
    if raw:
        d[:3, :4] = 0
    return d


def nyu_labels(i):
    """(H, W) uint16 in 0..894: 0 (unlabelled), 894, and classes depending on i."""
    lab = np.zeros((NYU_H, NYU_W), np.uint16)
    lab[2:8, 3:12] = 1 + 3 * i
    lab[9:, 5:] = 894
    lab[0, NYU_W - 1] = 7  # unmapped in the fixture mapping
    return lab


def nyu_mapping():
    """894 entries: class k -> 1 + (k % 40), except class 7 -> 0 (unmapped)."""
    m = 1 + np.arange(1, 895) % 40
    m[7 - 1] = 0
    return m


def expected_label(raw):
    m = nyu_mapping()
    out = np.full(raw.shape, 255, np.uint8)
    has = raw > 0
    mapped = m[raw[has].astype(int) - 1]
    out[has] = np.where(mapped > 0, mapped - 1, 255)
    return out


def write_nyu_fixture(root, train=(2, 4, 5), test=(1, 3)):
    os.makedirs(root, exist_ok=True)
    mat = osp.join(root, 'nyu_depth_v2_labeled.mat')
    f = matlab_h5(mat)
    # MATLAB H×W×3×N / H×W×N, seen by h5py reversed: (N, 3, W, H) / (N, W, H)
    f['images'] = np.stack([nyu_rgb(i).transpose(2, 1, 0) for i in range(1, NYU_N + 1)])
    f['depths'] = np.stack([nyu_depth(i, False).T for i in range(1, NYU_N + 1)])
    f['rawDepths'] = np.stack([nyu_depth(i, True).T for i in range(1, NYU_N + 1)])
    f['labels'] = np.stack([nyu_labels(i).T for i in range(1, NYU_N + 1)])
    for key in ('images', 'labels'):
        f[key].attrs['MATLAB_class'] = np.bytes_(
            'uint8' if key == 'images' else 'uint16')
    f.close()
    finish_matlab_h5(mat)
    mapping = osp.join(root, 'classMapping40.mat')
    scipy.io.savemat(mapping, {'mapClass': nyu_mapping()[None, :].astype(float)})
    splits = osp.join(root, 'splits.mat')
    scipy.io.savemat(splits, {'trainNdxs': np.array(train, float)[:, None],
                              'testNdxs': np.array(test, float)[:, None]})
    return mat, mapping, splits


@pytest.fixture
def nyu(tmp_path):
    return write_nyu_fixture(str(tmp_path / 'nyu_src'))


def check_nyu_output(out, depth_kind='raw', train=(2, 4, 5), test=(1, 3)):
    for split, ids in (('train', train), ('test', test)):
        with open(osp.join(out, f'{split}.txt')) as f:
            assert f.read().split() == [f'{i:06d}' for i in ids]
        for i in ids:
            name = f'{i:06d}.png'
            rgb = cv2.cvtColor(read(osp.join(out, 'images', split, name)),
                               cv2.COLOR_BGR2RGB)
            np.testing.assert_array_equal(rgb, nyu_rgb(i))
            depth = read(osp.join(out, 'depth', split, name))
            assert depth.dtype == np.uint16 and depth.shape == (NYU_H, NYU_W)
            np.testing.assert_array_equal(
                depth, np.rint(nyu_depth(i, depth_kind == 'raw') * 5000))
            np.testing.assert_array_equal(read(osp.join(out, 'annotations', split, name)),
                                          expected_label(nyu_labels(i)))


def test_nyudv2_mat_conversion(nyu, tmp_path):
    out = str(tmp_path / 'data' / 'nyudv2')
    summary = convert_nyudv2_mat(*nyu, out)
    check_nyu_output(out)
    with open(osp.join(out, 'meta.json')) as f:
        meta = json.load(f)
    assert meta == json.loads(json.dumps(summary))
    assert meta['dataset'] == 'nyudv2' and meta['complete'] is True
    assert meta['depth_encoding'] == dict(type='linear', scale=1 / 5000)
    assert meta['depth_source'] == 'raw'
    assert meta['splits']['train']['count'] == 3
    assert meta['splits']['train']['official_count'] == 795
    assert any('3 images, the official split has 795' in n for n in meta['notes'])
    assert sorted(os.listdir(out)) == ['annotations', 'depth', 'images', 'meta.json',
                                       'test.txt', 'train.txt']
    assert not [p for p in os.listdir(osp.dirname(out)) if p.startswith('.')]


def test_nyudv2_filled_depth_and_dataset_reads_metres(nyu, tmp_path):
    from mmseg.registry import DATASETS
    init_default_scope('mmseg')
    out = str(tmp_path / 'nyudv2')
    convert_nyudv2_mat(*nyu, out, depth='filled')
    check_nyu_output(out, 'filled')
    ds = DATASETS.build(dict(
        type='NYUDv2Dataset', data_root=out,
        data_prefix=dict(img_path='images/test', depth_path='depth/test',
                         seg_map_path='annotations/test'),
        pipeline=[dict(type='LoadRGBDFromFile'), dict(type='LoadRGBDAnnotations')]))
    assert len(ds) == 2
    sample = ds[0]
    assert sample['img'].shape == (NYU_H, NYU_W, 4)
    np.testing.assert_allclose(sample['img'][..., 3], nyu_depth(1, False), atol=1e-4)
    np.testing.assert_array_equal(sample['gt_seg_map'], expected_label(nyu_labels(1)))


def test_nyudv2_interrupted_run_resumes(nyu, tmp_path, monkeypatch):
    out = str(tmp_path / 'nyudv2')
    real = nyudv2_mat._convert_sample
    calls = []

    def stop_after_two(*args):
        if len(calls) == 2:
            raise KeyboardInterrupt
        calls.append(args[-1])
        return real(*args)

    monkeypatch.setattr(nyudv2_mat, '_convert_sample', stop_after_two)
    with pytest.raises(KeyboardInterrupt):
        convert_nyudv2_mat(*nyu, out)
    assert not osp.exists(out)  # nothing that looks complete
    partial = osp.join(str(tmp_path), '.nyudv2.partial')
    assert calls == [1, 2]  # in file order
    assert os.listdir(osp.join(partial, '.stats', 'test')) == ['000001.json']
    assert os.listdir(osp.join(partial, '.stats', 'train')) == ['000002.json']
    # a temporary file of a run killed while writing
    stray = osp.join(partial, 'images', 'train', '000004.png.tmp-999')
    with open(stray, 'wb') as f:
        f.write(b'half a png')

    resumed = []
    monkeypatch.setattr(nyudv2_mat, '_convert_sample',
                        lambda *a: resumed.append(a[-1]) or real(*a))
    convert_nyudv2_mat(*nyu, out)
    assert resumed == [3, 4, 5]  # 1 and 2 were done before
    check_nyu_output(out)
    assert not osp.exists(partial)
    assert sorted(os.listdir(osp.join(out, 'images', 'train'))) == [
        '000002.png', '000004.png', '000005.png']


def test_nyudv2_partial_with_other_options_is_discarded(nyu, tmp_path, monkeypatch):
    out = str(tmp_path / 'nyudv2')
    real = nyudv2_mat._convert_sample

    def fail_third(*args):
        if args[-1] == 5:
            raise KeyboardInterrupt
        return real(*args)

    monkeypatch.setattr(nyudv2_mat, '_convert_sample', fail_third)
    with pytest.raises(KeyboardInterrupt):
        convert_nyudv2_mat(*nyu, out, depth='raw')
    monkeypatch.setattr(nyudv2_mat, '_convert_sample', real)
    convert_nyudv2_mat(*nyu, out, depth='filled')
    check_nyu_output(out, 'filled')  # no raw-depth file survived from the first run


@pytest.mark.e2e
def test_nyudv2_command_line(nyu, tmp_path, capsys):
    out = str(tmp_path / 'nyudv2')
    mat, mapping, splits = nyu
    argv = [mat, '--mapping', mapping, '--splits', splits, '-o', out]
    assert run_tool('nyudv2_official.py', argv) == 0
    text = capsys.readouterr().out
    assert 'NYUDv2' in text and 'train' in text and '795' in text
    check_nyu_output(out)
    assert run_tool('nyudv2_official.py', argv) == 1  # exists, no --overwrite
    assert 'already exists' in capsys.readouterr().err
    assert run_tool('nyudv2_official.py', argv + ['--overwrite']) == 0


def test_nyudv2_bad_inputs(nyu, tmp_path):
    mat, mapping, splits = nyu
    out = str(tmp_path / 'out')
    bad_split = str(tmp_path / 'bad_splits.mat')
    scipy.io.savemat(bad_split, {'trainNdxs': np.array([[1], [9]], float),
                                 'testNdxs': np.array([[2]], float)})
    with pytest.raises(ConversionError, match=r'bad_splits.mat: trainNdxs has indices '
                       r'\[9\] outside 1..5'):
        convert_nyudv2_mat(mat, mapping, bad_split, out)
    overlap = str(tmp_path / 'overlap.mat')
    scipy.io.savemat(overlap, {'trainNdxs': np.array([[1], [2]], float),
                               'testNdxs': np.array([[2]], float)})
    with pytest.raises(ConversionError, match='index 2 is in both'):
        convert_nyudv2_mat(mat, mapping, overlap, out)
    short = str(tmp_path / 'short_mapping.mat')
    scipy.io.savemat(short, {'mapClass': np.ones((1, 40))})
    with pytest.raises(ConversionError,
                       match='40 entries, expected one per NYUDv2 class'):
        convert_nyudv2_mat(mat, short, splits, out)
    wrong = str(tmp_path / 'wrong.mat')
    scipy.io.savemat(wrong, {'something': np.ones(3)})
    with pytest.raises(ConversionError, match=r'none of the variables \[.mapClass'):
        convert_nyudv2_mat(mat, wrong, splits, out)
    not_h5 = str(tmp_path / 'v5.mat')
    scipy.io.savemat(not_h5, {'images': np.ones(3)})
    with pytest.raises(ConversionError, match='not an HDF5 .MATLAB v7.3. file'):
        convert_nyudv2_mat(not_h5, mapping, splits, out)
    no_labels = str(tmp_path / 'no_labels.mat')
    with h5py.File(no_labels, 'w') as f:
        f['images'] = np.zeros((2, 3, 4, 3), np.uint8)
        f['rawDepths'] = np.zeros((2, 4, 3), np.float32)
    with pytest.raises(ConversionError, match=r"no \['labels'\] dataset"):
        convert_nyudv2_mat(no_labels, mapping, splits, out)
    with pytest.raises(ConversionError, match='not found'):
        convert_nyudv2_mat(str(tmp_path / 'missing.mat'), mapping, splits, out)
    assert not osp.exists(out)


# ---------------------------------------------------------------------------------------
# SUN RGB-D fixture
# ---------------------------------------------------------------------------------------
SUN_FRAMES = [  # (folder below SUNRGBD/, (W, H), split)
    ('kv1/NYUdata/NYU0001', (16, 12), 'test'),
    ('kv2/kinect2data/000002_2014-05-26_14-23-37_260595134347_rgbf000103-resize',
     (18, 13), 'train'),
    ('realsense/sa/2014_10_21-18_35_33-1311000073', (15, 12), 'train'),
    ('xtion/sun3ddata/mit_32_d507/d507_2/0000', (16, 12), None),  # in neither split
]
AUTHORS_PREFIX = '/n/fs/sun3d/data/SUNRGBD/'


def sun_metres(i, w, h, filled):
    y, x = np.mgrid[:h, :w]
    d = 1.5 + 0.2 * i + 0.03 * x + 0.01 * y
    if not filled:
        d[-2:, :3] = 0
    return d


def sun_labels(i, w, h):
    lab = np.zeros((h, w), np.uint8)
    lab[1:6, 2:9] = 1 + 5 * i
    lab[7:, 4:] = 37
    return lab


def write_sun_fixture(root):
    release = osp.join(root, 'SUNRGBD')
    metas, labels = [], []
    for i, (folder, (w, h), _) in enumerate(SUN_FRAMES, start=1):
        frame = osp.join(release, folder)
        for sub in ('image', 'depth', 'depth_bfx'):
            os.makedirs(osp.join(frame, sub))
        y, x = np.mgrid[:h, :w]
        bgr = np.stack([x * 9, y * 13 + i, np.full_like(x, 50 * i)], -1).astype(np.uint8)
        rgb_name, depth_name = f'img_{i:04d}.jpg', f'{i:04d}.png'
        assert cv2.imwrite(osp.join(frame, 'image', rgb_name), bgr)
        assert cv2.imwrite(osp.join(frame, 'depth', depth_name),
                           encode_sunrgbd_depth(sun_metres(i, w, h, False)))
        assert cv2.imwrite(osp.join(frame, 'depth_bfx', depth_name),
                           encode_sunrgbd_depth(sun_metres(i, w, h, True)))
        with open(osp.join(frame, 'intrinsics.txt'), 'w') as f:
            f.write(f'{500 + i} 0 {w / 2}\n0 {510 + i} {h / 2}\n0 0 1\n')
        metas.append((AUTHORS_PREFIX + folder + '/image/' + rgb_name,
                      AUTHORS_PREFIX + folder + '/depth/' + depth_name))
        labels.append(sun_labels(i, w, h))
    toolbox = osp.join(root, 'SUNRGBDtoolbox')
    os.makedirs(osp.join(toolbox, 'Metadata'))
    os.makedirs(osp.join(toolbox, 'traintestSUNRGBD'))
    meta = np.zeros((1, len(metas)), dtype=[('rgbpath', 'O'), ('depthpath', 'O'),
                                            ('sequenceName', 'O')])
    for k, (rgbpath, depthpath) in enumerate(metas):
        meta[0, k] = (rgbpath, depthpath, rgbpath.split('/image/')[0][len(
            AUTHORS_PREFIX):])
    scipy.io.savemat(osp.join(toolbox, 'Metadata', 'SUNRGBDMeta.mat'),
                     {'SUNRGBDMeta': meta})
    seg = osp.join(toolbox, 'Metadata', 'SUNRGBD2Dseg.mat')
    f = matlab_h5(seg)
    refs = f.create_group('#refs#')
    group = f.create_group('SUNRGBD2Dseg')
    ref_list = []
    for k, lab in enumerate(labels):
        refs[f'l{k}'] = lab.T.astype(np.float64)  # MATLAB double, h5py-transposed
        ref_list.append(refs[f'l{k}'].ref)
    group.create_dataset('seglabel',
                         data=np.array(ref_list, dtype=h5py.ref_dtype)[:, None])
    f.close()
    finish_matlab_h5(seg)

    def cell(split):
        paths = [AUTHORS_PREFIX + folder for folder, _, s in SUN_FRAMES if s == split]
        arr = np.empty((1, len(paths)), dtype=object)
        arr[0, :] = paths
        return arr

    scipy.io.savemat(osp.join(toolbox, 'traintestSUNRGBD', 'allsplit.mat'),
                     {'alltrain': cell('train'), 'alltest': cell('test')})
    return root


def test_frame_key():
    assert frame_key(AUTHORS_PREFIX + 'kv1/NYUdata/NYU0001/') == 'kv1/NYUdata/NYU0001'
    assert frame_key('SUNRGBD/kv2/a') == 'kv2/a'


@pytest.mark.parametrize('depth', ['raw', 'filled'])
def test_sunrgbd_release_conversion(tmp_path, depth):
    root = write_sun_fixture(str(tmp_path / 'sun'))
    out = str(tmp_path / 'data' / 'sunrgbd')
    summary = convert_sunrgbd_release(root, out, depth=depth)
    expect = dict(train=[2, 3], test=[1])
    for split, ids in expect.items():
        with open(osp.join(out, f'{split}.txt')) as f:
            assert f.read().split() == [f'{i:05d}' for i in ids]
        for i in ids:
            folder, (w, h), _ = SUN_FRAMES[i - 1]
            frame = osp.join(root, 'SUNRGBD', folder)
            name = f'{i:05d}.png'
            np.testing.assert_array_equal(
                read(osp.join(out, 'images', split, name), cv2.IMREAD_COLOR),
                read(osp.join(frame, 'image', f'img_{i:04d}.jpg'), cv2.IMREAD_COLOR))
            sub = 'depth' if depth == 'raw' else 'depth_bfx'
            with open(osp.join(out, 'depth', split, name), 'rb') as a, open(
                    osp.join(frame, sub, f'{i:04d}.png'), 'rb') as b:
                assert a.read() == b.read()  # copied unchanged
            stored = read(osp.join(out, 'depth', split, name))
            np.testing.assert_allclose(decode_depth(stored, dict(type='sunrgbd')),
                                       sun_metres(i, w, h, depth == 'filled'), atol=1e-3)
            label = read(osp.join(out, 'annotations', split, name))
            raw = sun_labels(i, w, h)
            np.testing.assert_array_equal(label, np.where(raw > 0, raw - 1, 255))
    with open(osp.join(out, 'camera.json')) as f:
        camera = json.load(f)
    assert set(camera) == {'00001', '00002', '00003'}
    assert camera['00002'] == dict(source=SUN_FRAMES[1][0],
                                   intrinsics=[502.0, 512.0, 9.0, 6.5])
    with open(osp.join(out, 'meta.json')) as f:
        meta = json.load(f)
    assert meta == json.loads(json.dumps(summary))
    assert meta['dataset'] == 'sunrgbd' and meta['depth_encoding'] == dict(type='sunrgbd')
    assert meta['splits']['train']['official_count'] == 5285
    assert meta['splits']['test']['official_count'] == 5050
    assert any('1 image(s) of SUNRGBDMeta are in neither split' in n
               for n in meta['notes'])


@pytest.mark.e2e
def test_sunrgbd_release_dataset_and_errors(tmp_path):
    from mmseg.registry import DATASETS
    init_default_scope('mmseg')
    root = write_sun_fixture(str(tmp_path / 'sun'))
    out = str(tmp_path / 'sunrgbd')
    assert run_tool('sunrgbd_official.py', [root, '-o', out]) == 0
    ds = DATASETS.build(dict(
        type='SUNRGBDDataset', data_root=out,
        data_prefix=dict(img_path='images/train', depth_path='depth/train',
                         seg_map_path='annotations/train'),
        pipeline=[dict(type='LoadRGBDFromFile'), dict(type='LoadRGBDAnnotations')]))
    sample = ds[0]  # 00002, 18x13
    np.testing.assert_allclose(sample['img'][..., 3], sun_metres(2, 18, 13, False),
                               atol=1e-3)
    with pytest.raises(ConversionError, match='already exists'):
        convert_sunrgbd_release(root, out)
    # a label map whose size differs from its image
    seg = osp.join(root, 'SUNRGBDtoolbox', 'Metadata', 'SUNRGBD2Dseg.mat')
    with h5py.File(seg, 'r+') as f:
        del f['#refs#/l1']
        f['#refs#/l1'] = np.zeros((5, 5))
        refs = f['SUNRGBD2Dseg/seglabel'][()]
        refs[1, 0] = f['#refs#/l1'].ref
        f['SUNRGBD2Dseg/seglabel'][...] = refs
    with pytest.raises(ConversionError, match=r'size mismatch: RGB file .*img_0002.jpg '
                       r'is 18x13 \(WxH\) but its label map'):
        convert_sunrgbd_release(root, str(tmp_path / 'other'))
    with pytest.raises(ConversionError, match='unzip SUNRGBDtoolbox.zip'):
        convert_sunrgbd_release(root, str(tmp_path / 'x'),
                                toolbox=str(tmp_path / 'nowhere'))
    with pytest.raises(ConversionError, match='ROOT must hold the unzipped SUNRGBD.zip'):
        convert_sunrgbd_release(osp.join(root, 'SUNRGBD'), str(tmp_path / 'x'))
    assert not osp.exists(str(tmp_path / 'x')) and not osp.exists(str(tmp_path / 'other'))


# ---------------------------------------------------------------------------------------
# HHA folder
# ---------------------------------------------------------------------------------------
@pytest.mark.e2e
def test_depth2hha_nyudv2_restartable(nyu, tmp_path, monkeypatch, capsys):
    from mmseg.registry import DATASETS
    init_default_scope('mmseg')
    out = str(tmp_path / 'nyudv2')
    convert_nyudv2_mat(*nyu, out)
    real = hha_folder.hha_for_file
    done = []

    def stop_after_one(task):
        if done:
            raise KeyboardInterrupt
        done.append(task)
        return real(task)

    monkeypatch.setattr(hha_folder, 'hha_for_file', stop_after_one)
    with pytest.raises(KeyboardInterrupt):
        write_hha_folder(out)
    assert not osp.exists(osp.join(out, 'hha'))
    monkeypatch.setattr(hha_folder, 'hha_for_file', real)
    assert run_tool('depth2hha.py', [out]) == 0
    assert '5 frames (4 computed now' in capsys.readouterr().out
    k, _ = intrinsics_for('nyudv2', (NYU_W, NYU_H))  # centred crop of the Kinect frame
    assert k == NYUDV2_INTRINSICS.cropped((640 - NYU_W) // 2, (480 - NYU_H) // 2)
    for split, ids in (('train', (2, 4, 5)), ('test', (1, 3))):
        for i in ids:
            hha = cv2.cvtColor(read(osp.join(out, 'hha', split, f'{i:06d}.png')),
                               cv2.COLOR_BGR2RGB)
            stored = read(osp.join(out, 'depth', split, f'{i:06d}.png'))
            expected = depth_to_hha(stored / 5000.0, k)
            np.testing.assert_array_equal(hha, expected)
    with open(osp.join(out, 'meta.json')) as f:
        meta = json.load(f)
    assert meta['modalities'] == ['rgb', 'depth', 'hha']
    assert meta['hha']['frames'] == 5 and meta['hha']['intrinsics'] == 'built-in nyudv2'
    assert run_tool('depth2hha.py', [out]) == 1  # exists
    assert 'already exists' in capsys.readouterr().err

    ds = DATASETS.build(dict(
        type='NYUDv2Dataset', data_root=out, depth_type='hha',
        data_prefix=dict(img_path='images/train', depth_path='hha/train',
                         seg_map_path='annotations/train'),
        pipeline=[dict(type='LoadRGBDFromFile', depth_type='hha'),
                  dict(type='LoadRGBDAnnotations')]))
    sample = ds[0]
    assert sample['img'].shape == (NYU_H, NYU_W, 6)
    assert sample['modality_channels'] == (3, 3)
    np.testing.assert_array_equal(
        sample['img'][..., 3:],
        cv2.cvtColor(read(osp.join(out, 'hha', 'train', '000002.png')),
                     cv2.COLOR_BGR2RGB))

    # the HHA base config's full training pipeline on this data: 6-channel inputs
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(REPO, 'configs/_base_/datasets/nyud_rgbd_hha.py'))
    ds_cfg = dict(cfg.train_dataloader.dataset)
    ds_cfg['data_root'] = out
    packed = DATASETS.build(ds_cfg)[0]
    assert packed['inputs'].shape[0] == 6
    assert packed['data_samples'].metainfo['modality_channels'] == (3, 3)


@pytest.mark.e2e
def test_depth2hha_uses_camera_json_and_override(tmp_path):
    root = write_sun_fixture(str(tmp_path / 'sun'))
    out = str(tmp_path / 'sunrgbd')
    convert_sunrgbd_release(root, out)
    info = write_hha_folder(out)
    assert info['intrinsics'] == 'camera.json' and info['frames'] == 3
    stored = read(osp.join(out, 'depth', 'train', '00002.png'))
    metres = decode_depth(stored, dict(type='sunrgbd'))
    hha = cv2.cvtColor(read(osp.join(out, 'hha', 'train', '00002.png')),
                       cv2.COLOR_BGR2RGB)
    np.testing.assert_array_equal(hha, depth_to_hha(metres, CameraIntrinsics(
        502.0, 512.0, 9.0, 6.5)))
    write_hha_folder(out, intrinsics=[300, 300, 8, 6], overwrite=True, nproc=2)
    hha = cv2.cvtColor(read(osp.join(out, 'hha', 'train', '00002.png')),
                       cv2.COLOR_BGR2RGB)
    np.testing.assert_array_equal(hha, depth_to_hha(metres, CameraIntrinsics(
        300, 300, 8, 6)))
    assert not [p for p in os.listdir(out) if p.startswith('.')]


def test_depth2hha_refuses_relative_depth_and_unconverted(tmp_path):
    root = str(tmp_path / 'rel')
    os.makedirs(root)
    with open(osp.join(root, 'meta.json'), 'w') as f:
        json.dump(dict(dataset='sunrgbd', depth_encoding=dict(type='linear',
                                                              scale=1 / 255)), f)
    with pytest.raises(ConversionError, match='relative depth'):
        write_hha_folder(root)
    with pytest.raises(ConversionError, match='no meta.json'):
        write_hha_folder(str(tmp_path))


def test_hha_base_configs(tmp_path):
    from mmengine.config import Config
    for name, channels in (('nyud_rgbd_hha.py', 6), ('sunrgbd_rgbd_hha.py', 6)):
        cfg = Config.fromfile(osp.join(REPO, 'configs', '_base_', 'datasets', name))
        assert cfg.rgbd_modality_channels == (3, 3)
        assert len(cfg.rgbd_data_preprocessor['mean']) == channels
        assert cfg.rgbd_data_preprocessor['bgr_to_rgb'] is False
        for loader, split in ((cfg.train_dataloader, 'train'),
                              (cfg.val_dataloader, 'test')):
            ds = loader['dataset']
            assert ds['depth_type'] == 'hha'
            assert ds['data_prefix']['depth_path'] == f'hha/{split}'
            loads = [t for t in ds['pipeline'] if t['type'] == 'LoadRGBDFromFile']
            assert len(loads) == 1 and loads[0]['depth_type'] == 'hha'
        assert cfg.tta_pipeline[0]['depth_type'] == 'hha'
        # everything else as in the depth config
        base = Config.fromfile(osp.join(REPO, 'configs', '_base_', 'datasets',
                                        name.replace('_hha', '')))
        for a, b in zip(cfg.train_pipeline, base.train_pipeline):
            assert {k: v for k, v in a.items() if k != 'depth_type'} == {
                k: v for k, v in b.items() if k != 'depth_type'}
        assert len(cfg.train_pipeline) == len(base.train_pipeline)


# ---------------------------------------------------------------------------------------
# MATLAB v7.3 (HDF5) variants of the small .mat files, and the class-name check
# ---------------------------------------------------------------------------------------
def write_h5_cell(f, key, strings):
    """A MATLAB v7.3 1×N cell array of char rows (references to uint16 codes)."""
    refs = f.require_group('#refs#')
    ref_list = []
    for k, text in enumerate(strings):
        name = f'{key}_{k}'
        refs[name] = np.array([[ord(c)] for c in text], np.uint16)  # 1×n char, reversed
        refs[name].attrs['MATLAB_class'] = np.bytes_('char')
        ref_list.append(refs[name].ref)
    f.create_dataset(key, data=np.array(ref_list, dtype=h5py.ref_dtype)[:, None])
    f[key].attrs['MATLAB_class'] = np.bytes_('cell')


def test_v73_split_files(nyu, tmp_path):
    mat, mapping, _ = nyu
    splits = str(tmp_path / 'splits73.mat')
    f = matlab_h5(splits)
    f['trainNdxs'] = np.array([[2, 4, 5]], float)  # MATLAB 3×1, h5py-transposed
    f['testNdxs'] = np.array([[1, 3]], float)
    f.close()
    finish_matlab_h5(splits)
    out = str(tmp_path / 'nyudv2')
    convert_nyudv2_mat(mat, mapping, splits, out)
    check_nyu_output(out)

    root = write_sun_fixture(str(tmp_path / 'sun'))
    allsplit = osp.join(root, 'SUNRGBDtoolbox', 'traintestSUNRGBD', 'allsplit.mat')
    os.remove(allsplit)
    f = matlab_h5(allsplit)
    write_h5_cell(f, 'alltrain', [AUTHORS_PREFIX + SUN_FRAMES[2][0]])
    write_h5_cell(f, 'alltest', [AUTHORS_PREFIX + SUN_FRAMES[0][0] + '/',
                                 AUTHORS_PREFIX + SUN_FRAMES[1][0]])
    f.close()
    finish_matlab_h5(allsplit)
    out = str(tmp_path / 'sunrgbd')
    convert_sunrgbd_release(root, out)
    for split, names in (('train', ['00003']), ('test', ['00001', '00002'])):
        with open(osp.join(out, f'{split}.txt')) as f:
            assert f.read().split() == names


def test_mapping_class_names_are_checked(nyu, tmp_path):
    from cen_mm.seg.datasets.metainfo import NYUDV2_CLASSES
    names = np.empty((1, 40), dtype=object)
    names[0, :] = [n.replace(' ', '_') for n in NYUDV2_CLASSES]  # spelling differences
    good = str(tmp_path / 'good.mat')
    scipy.io.savemat(good, {'mapClass': nyu_mapping()[None, :].astype(float),
                            'className': names})
    lut, notes = nyudv2_mat.load_class_mapping(good)
    assert notes == [] and lut[0] == 255 and lut[1] == 1 and lut[7] == 255
    swapped = names.copy()
    swapped[0, [0, 1]] = swapped[0, [1, 0]]
    bad = str(tmp_path / 'bad.mat')
    scipy.io.savemat(bad, {'mapClass': nyu_mapping()[None, :].astype(float),
                           'className': swapped})
    _, notes = nyudv2_mat.load_class_mapping(bad)
    assert len(notes) == 1 and "'floor' vs 'wall'" in notes[0]
