"""tools/dataset_converters/{nyud,sunrgbd}.py: both source layouts, label remapping,
depth encodings, official-split bookkeeping, and every bad-input case (clear error naming
the file, no output that looks complete)."""
import glob
import json
import os
import os.path as osp
import runpy
import subprocess
import sys

import cv2
import numpy as np
import pytest

from cen_mm.seg.datasets.conversion import (NYUDV2_SPEC, SUNRGBD_SPEC, ConversionError,
                                            convert)
from cen_mm.seg.datasets.depth_io import decode_depth, encode_sunrgbd_depth
from tests.fixtures.tools import load_tool
from tests.fixtures.rgbd_data import (HOLE, SQUARE, depth_raw_of, label_of, rgb_of,
                                      write_cen_source, write_cmx_source, write_gray,
                                      write_rgb)

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..', '..'))


def read(path):
    return cv2.imread(path, cv2.IMREAD_UNCHANGED)


def read_rgb(path):
    return cv2.cvtColor(cv2.imread(path), cv2.COLOR_BGR2RGB)


def leftovers(out):
    """Anything the converter left next to OUT (temporary or old folders)."""
    return glob.glob(osp.join(osp.dirname(out), f'.{osp.basename(out)}*'))


@pytest.fixture
def cen_src(tmp_path):
    return write_cen_source(str(tmp_path / 'cen'), dict(train=[3, 4], test=[5]),
                            official=dict(train=[3, 4, 6], test=[5, 7]))


# ---------------------------------------------------------------------------------------
# Layouts
# ---------------------------------------------------------------------------------------
def test_nyud_cen_layout(cen_src, tmp_path):
    out = str(tmp_path / 'out' / 'nyudv2')
    summary = convert(cen_src, out, NYUDV2_SPEC)
    for split, ids in (('train', [3, 4]), ('test', [5])):
        with open(osp.join(out, f'{split}.txt')) as f:
            assert f.read().split() == [f'{i:06d}' for i in ids]
        for i in ids:
            name = f'{i:06d}.png'
            np.testing.assert_array_equal(read_rgb(osp.join(out, 'images', split, name)),
                                          rgb_of(i))
            np.testing.assert_array_equal(read(osp.join(out, 'depth', split, name)),
                                          depth_raw_of(i))
            np.testing.assert_array_equal(
                read(osp.join(out, 'annotations', split, name)), label_of(i, 40))
    with open(osp.join(out, 'meta.json')) as f:
        meta = json.load(f)
    assert meta == json.loads(json.dumps(summary))
    assert meta['dataset'] == 'nyudv2' and meta['layout'] == 'cen'
    assert meta['complete'] is True
    assert meta['depth_encoding'] == dict(type='linear', scale=1 / 5000)
    assert meta['modalities'] == ['rgb', 'depth']
    assert meta['splits']['train']['count'] == 2
    assert meta['splits']['train']['official_count'] == 795
    assert meta['splits']['test']['official_count'] == 654
    assert not meta['splits']['train']['full']
    assert any('2 of the 795' in n for n in meta['notes'])
    assert not leftovers(out)


def test_cen_lists_outside_the_official_split_are_reported(tmp_path):
    src = write_cen_source(str(tmp_path / 'cen'), dict(train=[3], test=[5]),
                           official=dict(train=[5], test=[3]))
    meta = convert(src, str(tmp_path / 'out'), NYUDV2_SPEC)
    assert any('not in the official train split' in n for n in meta['notes'])


def test_cen_uses_meta_full_lists_when_there_are_no_root_lists(tmp_path):
    src = write_cen_source(str(tmp_path / 'cen'), dict(train=[3], test=[5]),
                           official=dict(train=[3], test=[5]))
    os.remove(osp.join(src, 'train.txt'))
    os.remove(osp.join(src, 'val.txt'))
    meta = convert(src, str(tmp_path / 'out'), NYUDV2_SPEC)
    assert meta['splits']['train']['list'].endswith('cen_train_full.txt')
    assert meta['splits']['test']['list'].endswith('cen_val_full.txt')


def test_cen_border_is_centre_cropped_to_the_mask(tmp_path):
    """As the official CropAlignToMask: offset (in - mask) // 2 on each axis."""
    src = str(tmp_path / 'cen')
    yy, xx = np.mgrid[0:24, 0:32]
    rgb = np.stack([yy, xx, np.zeros_like(yy)], 2).astype(np.uint8)
    depth = (1000 * yy + xx + 1).astype(np.uint16)
    write_rgb(osp.join(src, 'rgb', 'a.png'), rgb)
    write_gray(osp.join(src, 'depth', 'a.png'), depth)
    write_gray(osp.join(src, 'masks', 'a.png'), np.zeros((21, 27), np.uint8))
    for name in ('train.txt', 'val.txt'):
        with open(osp.join(src, name), 'w') as f:
            f.write('rgb/a.png\tmasks/a.png\tdepth/a.png\n')
    out = str(tmp_path / 'out')
    meta = convert(src, out, NYUDV2_SPEC)
    got = read_rgb(osp.join(out, 'images', 'train', 'a.png'))
    assert got.shape == (21, 27, 3)
    assert tuple(got[0, 0, :2]) == (1, 2)  # dh=3 -> top 1, dw=5 -> left 2
    np.testing.assert_array_equal(read(osp.join(out, 'depth', 'train', 'a.png')),
                                  depth[1:22, 2:29])
    assert meta['splits']['train']['cropped'] == 1


@pytest.mark.parametrize('list_style', ['name', 'path'])
def test_nyud_cmx_layout_with_depth_and_hha(tmp_path, list_style):
    src = write_cmx_source(str(tmp_path / 'cmx'), dict(train=[1, 2], test=[3]), 40,
                           hha=True, list_style=list_style)
    out = str(tmp_path / 'out')
    meta = convert(src, out, NYUDV2_SPEC)
    assert meta['layout'] == 'cmx'
    assert meta['modalities'] == ['rgb', 'depth', 'hha']
    assert meta['depth_encoding'] == dict(type='linear', scale=1 / 5000)
    name = 'img_0002.png'
    label = read(osp.join(out, 'annotations', 'train', name))
    expected = label_of(2, 40)  # stored k + 1 -> k; stored 0 -> 255
    expected[HOLE] = 255
    np.testing.assert_array_equal(label, expected)
    np.testing.assert_array_equal(read(osp.join(out, 'depth', 'train', name)),
                                  depth_raw_of(2))
    np.testing.assert_array_equal(read_rgb(osp.join(out, 'hha', 'train', name)),
                                  rgb_of(3))
    # RGB comes from a JPEG: identical to its decoded pixels, close to the original.
    rgb = read_rgb(osp.join(out, 'images', 'train', name))
    np.testing.assert_array_equal(
        rgb, read_rgb(osp.join(src, 'RGB', 'img_0002.jpg')))
    assert np.abs(rgb.astype(int) - rgb_of(2)).mean() < 3
    assert meta['splits']['train']['ignored_fraction'] == f'{100 * 12 / (24 * 32):.1f}%'


def test_sunrgbd_cmx_layout_keeps_the_sunrgbd_depth_encoding(tmp_path):
    metres = {i: 1.0 + 0.25 * i for i in range(4)}

    def sun_depth(i):
        d = np.full((24, 32), metres[i])
        d[HOLE] = 0
        return encode_sunrgbd_depth(d)

    src = write_cmx_source(str(tmp_path / 'sun'), dict(train=[0, 1], test=[2, 3]), 37,
                           label_dir='labels', depth_raw=sun_depth)
    out = str(tmp_path / 'out')
    meta = convert(src, out, SUNRGBD_SPEC)
    assert meta['dataset'] == 'sunrgbd'
    assert meta['depth_encoding'] == dict(type='sunrgbd')
    assert meta['splits']['test']['official_count'] == 5050
    stored = read(osp.join(out, 'depth', 'test', 'img_0003.png'))
    decoded = decode_depth(stored, meta['depth_encoding'])
    assert decoded[10, 10] == pytest.approx(1.75)
    label = read(osp.join(out, 'annotations', 'test', 'img_0003.png'))
    assert label[SQUARE].max() == label_of(3, 37)[SQUARE].max()
    assert label.max() == 255 and label[HOLE].min() == 255


def test_sunrgbd_plain_millimetre_depth_is_detected(tmp_path):
    def mm(i):
        d = np.full((24, 32), 2001 + 7 * i, np.uint16)  # low 3 bits not all zero
        d[HOLE] = 0
        return d

    src = write_cmx_source(str(tmp_path / 'sun'), dict(train=[0], test=[1]), 37,
                           depth_raw=mm)
    meta = convert(src, str(tmp_path / 'out'), SUNRGBD_SPEC)
    assert meta['depth_encoding'] == dict(type='linear', scale=1 / 1000)
    assert any('millimetres' in n for n in meta['notes'])


def test_eight_bit_depth_is_relative(tmp_path):
    src = write_cmx_source(str(tmp_path / 'd'), dict(train=[0], test=[1]), 37,
                           depth_raw=lambda i: np.full((24, 32), 100 + i, np.uint8))
    meta = convert(src, str(tmp_path / 'out'), SUNRGBD_SPEC)
    assert meta['depth_encoding'] == dict(type='linear', scale=1 / 255)
    assert any('relative' in n for n in meta['notes'])


def test_explicit_depth_encoding_and_implausible_depth_warning(cen_src, tmp_path):
    meta = convert(cen_src, str(tmp_path / 'a'), NYUDV2_SPEC, depth_encoding='linear',
                   depth_scale=0.001)
    assert meta['depth_encoding'] == dict(type='linear', scale=0.001)
    with pytest.raises(ConversionError, match='--depth-scale'):
        convert(cen_src, str(tmp_path / 'b'), NYUDV2_SPEC, depth_encoding='linear')
    # Values of ~6000-14000 read as metres / 5000 are fine; as SUN RGB-D rotation not.
    meta = convert(cen_src, str(tmp_path / 'c'), NYUDV2_SPEC, depth_encoding='sunrgbd')
    assert meta['depth_encoding'] == dict(type='sunrgbd')


def test_sunrgbd_refuses_the_nyud_only_cen_layout(cen_src, tmp_path):
    with pytest.raises(ConversionError, match='cannot recognise the SUN RGB-D layout'):
        convert(cen_src, str(tmp_path / 'out'), SUNRGBD_SPEC)


# ---------------------------------------------------------------------------------------
# Bad input: clear error naming the file, nothing written
# ---------------------------------------------------------------------------------------
def _break_missing_depth(src):
    path = osp.join(src, 'depth', '000004.png')
    os.remove(path)
    return path, 'missing depth file'


def _break_missing_label(src):
    path = osp.join(src, 'masks', '000005.png')
    os.remove(path)
    return path, 'missing label file'


def _break_size(src):
    path = osp.join(src, 'depth', '000005.png')
    write_gray(path, np.ones((10, 12), np.uint16))
    return path, 'size mismatch'


def _break_label_value(src):
    path = osp.join(src, 'masks', '000004.png')
    label = label_of(4, 40)
    label[0, 0] = 40
    write_gray(path, label)
    return path, r'values \[40\] outside the 40 classes'


def _break_png(src):
    path = osp.join(src, 'rgb', '000005.png')
    with open(path, 'wb') as f:
        f.write(b'\x89PNG\r\n\x1a\n truncated')
    return path, 'unreadable RGB file'


def _break_empty_split(src):
    path = osp.join(src, 'val.txt')
    open(path, 'w').close()
    return path, 'is empty'


def _break_list_without_depth(src):
    path = osp.join(src, 'train.txt')
    with open(path, 'w') as f:
        f.write('rgb/000003.png\tmasks/000003.png\n')
    return path, 'line 1'


def _break_colour_label(src):
    path = osp.join(src, 'masks', '000003.png')
    write_rgb(path, rgb_of(0))
    return path, 'single-channel 8-bit'


def _break_duplicate(src):
    path = osp.join(src, 'train.txt')
    with open(path, 'a') as f:
        f.write('rgb/000003.png\tmasks/000003.png\tdepth/000003.png\n')
    return path, 'listed twice'


BREAKERS = [_break_missing_depth, _break_missing_label, _break_size, _break_label_value,
            _break_png, _break_empty_split, _break_list_without_depth,
            _break_colour_label, _break_duplicate]


@pytest.mark.parametrize('breaker', BREAKERS, ids=lambda b: b.__name__[7:])
def test_bad_cen_input_names_the_file_and_writes_nothing(cen_src, tmp_path, breaker):
    path, message = breaker(cen_src)
    out = str(tmp_path / 'out' / 'nyudv2')
    with pytest.raises(ConversionError, match=message) as err:
        convert(cen_src, out, NYUDV2_SPEC)
    assert path in str(err.value)
    assert not osp.exists(out)
    assert not leftovers(out)


@pytest.mark.parametrize('problem', ['label_value', 'size', 'missing_hha', 'empty'])
def test_bad_cmx_input(tmp_path, problem):
    src = write_cmx_source(str(tmp_path / 'cmx'), dict(train=[1, 2], test=[3]), 40,
                           hha=True)
    if problem == 'label_value':
        path = osp.join(src, 'Label', 'img_0002.png')
        write_gray(path, np.full((24, 32), 41, np.uint8))  # 0..40 allowed
        message = r'values \[41\].*0 \(unlabelled\) or 1..40'
    elif problem == 'size':
        path = osp.join(src, 'HHA', 'img_0003.png')
        write_rgb(path, np.zeros((24, 30, 3), np.uint8))
        message = 'size mismatch: HHA'
    elif problem == 'missing_hha':
        os.remove(osp.join(src, 'HHA', 'img_0001.png'))
        path = osp.join(src, 'HHA', 'img_0001{.jpg,.png}')
        message = 'missing HHA file'
    else:
        path = osp.join(src, 'test.txt')
        with open(path, 'w') as f:
            f.write('\n\n')
        message = 'is empty'
    out = str(tmp_path / 'out')
    with pytest.raises(ConversionError, match=message) as err:
        convert(src, out, NYUDV2_SPEC)
    assert path in str(err.value)
    assert not osp.exists(out) and not leftovers(out)


def test_mixed_depth_dtypes_name_the_sample(tmp_path):
    src = write_cmx_source(
        str(tmp_path / 'cmx'), dict(train=[1, 2], test=[3]), 40,
        depth_raw=lambda i: (depth_raw_of(i) if i != 3 else np.full((24, 32), 9,
                                                                     np.uint8)))
    with pytest.raises(ConversionError, match="'img_0003'.*uint8"):
        convert(src, str(tmp_path / 'out'), NYUDV2_SPEC)


def test_unknown_layout_lists_what_it_found(tmp_path):
    os.makedirs(tmp_path / 'src' / 'images')
    with pytest.raises(ConversionError, match=r"found folders \['images'\]"):
        convert(str(tmp_path / 'src'), str(tmp_path / 'out'), NYUDV2_SPEC)


# ---------------------------------------------------------------------------------------
# Output handling
# ---------------------------------------------------------------------------------------
def test_existing_output_is_kept_unless_overwrite(cen_src, tmp_path):
    out = str(tmp_path / 'out')
    os.makedirs(out)
    with open(osp.join(out, 'mine.txt'), 'w') as f:
        f.write('precious')
    with pytest.raises(ConversionError, match='--overwrite'):
        convert(cen_src, out, NYUDV2_SPEC)
    assert os.listdir(out) == ['mine.txt']
    # A failing overwrite leaves the old output untouched.
    _break_png(cen_src)
    with pytest.raises(ConversionError):
        convert(cen_src, out, NYUDV2_SPEC, overwrite=True)
    assert os.listdir(out) == ['mine.txt'] and not leftovers(out)
    write_rgb(osp.join(cen_src, 'rgb', '000005.png'), rgb_of(5))
    convert(cen_src, out, NYUDV2_SPEC, overwrite=True)
    assert not osp.exists(osp.join(out, 'mine.txt'))
    assert osp.isfile(osp.join(out, 'meta.json')) and not leftovers(out)


def test_output_must_not_replace_the_source(cen_src):
    with pytest.raises(ConversionError, match='source'):
        convert(cen_src, cen_src, NYUDV2_SPEC, overwrite=True)
    assert osp.isfile(osp.join(cen_src, 'train.txt'))


@pytest.mark.e2e
def test_parallel_conversion_matches_serial(cen_src, tmp_path):
    a, b = str(tmp_path / 'a'), str(tmp_path / 'b')
    convert(cen_src, a, NYUDV2_SPEC, nproc=1)
    convert(cen_src, b, NYUDV2_SPEC, nproc=2)
    files = sorted(os.path.relpath(p, a) for p in glob.glob(f'{a}/*/*/*.png'))
    assert len(files) == 9
    for rel in files:
        np.testing.assert_array_equal(read(osp.join(a, rel)), read(osp.join(b, rel)))


@pytest.mark.e2e  # two pools started and ended: ~2 s on a busy machine
def test_parallel_conversion_error_ends_the_workers(cen_src, tmp_path, capsys):
    """--nproc 2 with a broken sample: the error names the file, no worker outlives
    the converter (cen_mm.utils.progress.track_tasks), nothing is left behind; the
    progress bar (mmengine's) goes to stderr, stdout stays for the summary."""
    import multiprocessing
    path, message = _break_png(cen_src)
    out = str(tmp_path / 'out' / 'nyudv2')
    with pytest.raises(ConversionError, match=message) as err:
        convert(cen_src, out, NYUDV2_SPEC, nproc=2)
    assert path in str(err.value)
    assert multiprocessing.active_children() == []
    assert not osp.exists(out) and not leftovers(out)
    captured = capsys.readouterr()
    assert 'NYUDv2 train: 2 images' in captured.err and captured.out == ''


def test_cli_prints_summary_and_errors(cen_src, tmp_path, capsys):
    """tools/dataset_converters/nyud.py's main: the summary table on stdout, one error
    line on stderr."""
    main = load_tool('tools/dataset_converters/nyud.py').main
    out = str(tmp_path / 'out')
    assert main([cen_src, '-o', out]) == 0
    text = capsys.readouterr().out
    assert 'NYUDv2 ->' in text and 'official' in text and '795' in text
    assert 'note: train: 2 of the 795' in text
    assert main([cen_src, '-o', out]) == 1
    err = capsys.readouterr().err
    assert err.startswith('error: output') and '--overwrite' in err


@pytest.mark.e2e
def test_scripts_run_from_a_fresh_checkout(cen_src, tmp_path, capsys):
    out = str(tmp_path / 'out')
    proc = subprocess.run(
        [sys.executable, osp.join(REPO, 'tools/dataset_converters/nyud.py'), cen_src,
         '-o', out], capture_output=True, text=True, cwd=str(tmp_path), timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert 'NYUDv2 ->' in proc.stdout
    assert osp.isfile(osp.join(out, 'meta.json'))
    # The SUN RGB-D script in-process (runpy): exit status and a one-line error.
    argv = sys.argv
    sys.argv = ['sunrgbd.py', cen_src, '-o', str(tmp_path / 'o2')]
    try:
        with pytest.raises(SystemExit) as exit_info:
            runpy.run_path(osp.join(REPO, 'tools/dataset_converters/sunrgbd.py'),
                           run_name='__main__')
    finally:
        sys.argv = argv
    assert exit_info.value.code == 1
    assert 'error: cannot recognise the SUN RGB-D layout' in capsys.readouterr().err
