"""RGBDInferencerLoader on its own: HHA and generic modalities, encodings, holes."""
import cv2
import numpy as np
import pytest


def test_hha_modality_loaded_in_rgb_order(tmp_path):
    from cen_mm.seg.apis import RGBDInferencerLoader
    rgb = np.zeros((6, 8, 3), np.uint8)
    rgb[..., 0] = 10
    hha = np.zeros((6, 8, 3), np.uint8)
    hha[..., 0], hha[..., 1], hha[..., 2] = 1, 2, 3
    paths = []
    for name, img in (('rgb', rgb), ('hha', hha)):
        paths.append(str(tmp_path / f'{name}.png'))
        cv2.imwrite(paths[-1], img[..., ::-1])
    loader = RGBDInferencerLoader(modality_channels=(3, 3), modality_types=('rgb', 'hha'))
    out = loader(dict(inputs=paths))
    assert out['img'].shape == (6, 8, 6) and out['img'].dtype == np.float32
    np.testing.assert_array_equal(out['img'][0, 0], [10, 0, 0, 1, 2, 3])
    assert out['modality_channels'] == (3, 3) and out['img_path'] == paths[0]
    with pytest.raises(ValueError, match='has 1 channels, the model expects 3 for hha'):
        loader(dict(inputs=[paths[0], np.zeros((6, 8), np.uint8)]))


def test_three_modalities_sunrgbd_encoding_and_hole_filling():
    from cen_mm.seg.apis import RGBDInferencerLoader
    from cen_mm.seg.apis.rgbd_inputs import default_modality_names, default_modality_types
    from cen_mm.seg.datasets.depth_io import encode_sunrgbd_depth
    kinds = default_modality_types((3, 1, 3))
    assert kinds == ('rgb', 'depth', 'image')
    assert default_modality_names(('image', 'image')) == ('image0', 'image1')
    metres = np.full((4, 5), 2.5)
    metres[0, 0] = 0  # hole
    loader = RGBDInferencerLoader(modality_channels=(3, 1, 3), modality_types=kinds,
                                  depth_encoding=dict(type='sunrgbd'), hole_mode='fill')
    rgb = np.full((4, 5, 3), 7, np.uint8)
    out = loader(dict(inputs=[rgb, encode_sunrgbd_depth(metres), rgb]))
    np.testing.assert_allclose(out['img'][..., 3], 2.5)  # hole filled from neighbours
    assert out['img'].shape == (4, 5, 7)
    with pytest.raises(ValueError, match="needs depth_encoding"):
        RGBDInferencerLoader(modality_channels=(3, 1), modality_types=('rgb', 'depth'))
    with pytest.raises(ValueError, match="'depth' modality has 1 channels"):
        RGBDInferencerLoader(modality_channels=(3, 3), modality_types=('rgb', 'depth'),
                             depth_encoding=dict(type='linear', scale=0.001))
