"""Depth decoding (NYUDv2 linear, SUN RGB-D bit rotation) and hole filling."""
import numpy as np
import pytest

from cen_mm.seg.datasets.depth_io import (check_depth_encoding, decode_depth,
                                          encode_sunrgbd_depth, fill_depth_holes)


def test_linear_decoding_is_value_over_5000_for_nyud():
    raw = np.array([[0, 5000, 12345, 65535]], np.uint16)
    out = decode_depth(raw, dict(type='linear', scale=1 / 5000))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, [[0.0, 1.0, 2.469, 13.107]], rtol=1e-6)


def test_sunrgbd_decoding_rotates_three_bits():
    # SUN RGB-D toolbox: depth_mm = (v >> 3) | (v << 13) on 16 bits.
    # 1234 mm is stored as 1234 * 8 = 9872 (its top 3 bits are 0).
    # A value with low bits set: 0b101 -> (0b101 << 13) mm = 40960 mm.
    raw = np.array([[0, 9872, 0b101]], np.uint16)
    out = decode_depth(raw, dict(type='sunrgbd'))
    np.testing.assert_allclose(out, [[0.0, 1.234, 40.960]], rtol=1e-6)


def test_sunrgbd_encode_decode_round_trip():
    metres = np.array([[0.0, 0.5, 1.234, 7.999, 9.5]])
    stored = encode_sunrgbd_depth(metres)
    assert stored.dtype == np.uint16
    assert stored[0, 1] == 500 * 8  # below 8.19 m the stored value is mm << 3
    np.testing.assert_allclose(decode_depth(stored, dict(type='sunrgbd')), metres,
                               atol=5e-4)


@pytest.mark.parametrize('encoding', [None, dict(type='log'), dict(type='linear'),
                                      dict(type='linear', scale=-1),
                                      dict(type='linear', scale=1, shift=2)])
def test_bad_encodings_are_rejected(encoding):
    with pytest.raises(ValueError, match='depth_encoding'):
        check_depth_encoding(encoding)


def test_decode_rejects_multichannel_and_wrong_dtype():
    with pytest.raises(ValueError, match='single-channel'):
        decode_depth(np.zeros((2, 2, 3), np.uint16), dict(type='linear', scale=1))
    with pytest.raises(ValueError, match='uint16'):
        decode_depth(np.zeros((2, 2), np.uint8), dict(type='sunrgbd'))


def test_fill_nearest_takes_the_nearest_valid_value():
    rng = np.random.default_rng(0)
    depth = rng.uniform(1, 5, (9, 11)).astype(np.float32)
    depth[rng.random(depth.shape) < 0.4] = 0
    filled = fill_depth_holes(depth, 'nearest')
    valid = np.argwhere(depth > 0)
    assert np.array_equal(filled[depth > 0], depth[depth > 0])
    for r, c in np.argwhere(depth == 0):
        dist = np.hypot(*(valid - (r, c)).T)
        nearest = valid[dist == dist.min()]  # ties: any of them is correct
        assert filled[r, c] in {depth[tuple(p)] for p in nearest}


def test_fill_inpaint_keeps_valid_pixels_and_stays_in_range():
    depth = np.full((16, 16), 2.0, np.float32)
    depth[:, 8:] = 3.0
    depth[6:10, 6:10] = 0
    filled = fill_depth_holes(depth, 'inpaint')
    assert (filled > 0).all()
    assert np.array_equal(filled[depth > 0], depth[depth > 0])
    assert filled.min() >= 2.0 - 1e-4 and filled.max() <= 3.0 + 1e-4


def test_fill_leaves_all_hole_or_hole_free_maps_alone():
    empty = np.zeros((4, 4), np.float32)
    assert np.array_equal(fill_depth_holes(empty), empty)
    full = np.ones((4, 4), np.float32)
    assert np.array_equal(fill_depth_holes(full), full)
    with pytest.raises(ValueError, match='fill method'):
        fill_depth_holes(full, 'bilinear')


@pytest.mark.parametrize('kwargs,message', [
    (dict(hole_mode='drop'), "hole_mode must be one of ('keep', 'fill'), got 'drop'"),
    (dict(fill_method='telea'),
     "fill_method must be one of ('nearest', 'inpaint'), got 'telea'")])
def test_bad_hole_options_are_rejected_by_transform_and_dataset(kwargs, message):
    import re

    from cen_mm.seg.datasets import SynthRGBDDataset
    from cen_mm.seg.datasets.transforms import LoadRGBDFromFile
    with pytest.raises(ValueError, match=re.escape(message)):
        LoadRGBDFromFile(**kwargs)
    with pytest.raises(ValueError, match=re.escape(message)):
        SynthRGBDDataset(num_samples=1, pipeline=[], **kwargs)
