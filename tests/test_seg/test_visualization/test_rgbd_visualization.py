"""RGBDSegLocalVisualizer / RGBDSegVisualizationHook: pictures of RGB, depth, ground
truth, ensemble and streams for file-based RGB-D data and the procedural demo set."""
import pytest
import glob
import os.path as osp
from types import SimpleNamespace

import cv2
import numpy as np
import torch
from mmengine.structures import PixelData

from tests.fixtures.converted_rgbd import converted_nyud
from tests.fixtures.rgbd_data import H as NYU_H
from tests.fixtures.rgbd_data import W as NYU_W
from tests.fixtures.rgbd_data import rgb_of

PALETTE = [[0, 0, 0], [255, 0, 0], [0, 255, 0]]


def _visualizer(name, **kwargs):
    from cen_mm.seg.visualization import RGBDSegLocalVisualizer
    vis = RGBDSegLocalVisualizer.get_instance(name, alpha=1.0, **kwargs)
    vis.set_dataset_meta(classes=('a', 'b', 'c'), palette=PALETTE)
    return vis


def _sample(h, w, streams=True):
    from mmseg.structures import SegDataSample
    sample = SegDataSample(metainfo=dict(modality_channels=(3, 1), img_path='x.png',
                                         ori_shape=(h, w), img_shape=(h, w)))
    gt = torch.zeros(1, h, w, dtype=torch.long)
    gt[:, :h // 2] = 1
    sample.gt_sem_seg = PixelData(data=gt)
    sample.pred_sem_seg = PixelData(data=torch.full((1, h, w), 2))
    if streams:
        sample.set_field(PixelData(data=torch.full((1, h, w), 1)), 'pred_sem_seg_s0')
        sample.set_field(PixelData(data=torch.zeros(1, h, w, dtype=torch.long)),
                         'pred_sem_seg_s1')
    return sample


def test_colour_depth_near_warm_far_cold_holes_black():
    from cen_mm.seg.visualization import colour_depth
    depth = np.tile(np.linspace(1.0, 5.0, 20, dtype=np.float32), (4, 1))
    depth[0, 0] = 0
    rgb = colour_depth(depth)
    assert rgb.shape == (4, 20, 3) and rgb.dtype == np.uint8
    assert (rgb[0, 0] == 0).all()
    near, far = rgb[1, 1].astype(int), rgb[1, -1].astype(int)
    assert near[0] > near[2] and far[2] > far[0]  # red near, blue far


def test_panels_show_inputs_gt_ensemble_and_streams():
    h, w = 24, 32
    rgb = np.zeros((h, w, 3), np.float32)
    rgb[..., 1] = 128
    depth = np.full((h, w, 1), 2.0, np.float32)
    depth[:3, :3] = 0
    stacked = np.concatenate([rgb, depth], 2)
    vis = _visualizer('panels_test', stream_names=['rgb', 'depth'])
    picture = vis.draw_panels(stacked, _sample(h, w))
    scale = int(np.ceil(192 / h))
    pw = w * scale
    assert picture.shape == (22 + h * scale, 6 * pw + 5 * 4, 3)

    def panel(i):
        return picture[22:, i * (pw + 4):i * (pw + 4) + pw][::scale, ::scale]

    np.testing.assert_array_equal(panel(0), rgb.astype(np.uint8))      # RGB
    assert (panel(1)[:3, :3] == 0).all() and panel(1)[5, 5].any()     # depth, hole
    assert (panel(2)[:h // 2] == PALETTE[1]).all()                      # ground truth
    assert (panel(2)[h // 2:] == PALETTE[0]).all()
    assert (panel(3) == PALETTE[2]).all()                               # ensemble
    assert (panel(4) == PALETTE[1]).all()                               # stream 0
    assert (panel(5) == PALETTE[0]).all()                               # stream 1
    # without GT / streams: rgb, depth, prediction
    fewer = vis.draw_panels(stacked, _sample(h, w, streams=False), draw_gt=False)
    assert fewer.shape[1] == 3 * pw + 2 * 4


@pytest.mark.e2e
def test_hook_draws_file_based_rgbd_samples(tmp_path):
    """NYUDv2 layout through the config's test pipeline; the picture's RGB panel is the
    sample's RGB file."""
    from mmengine.config import Config
    from mmengine.dataset import pseudo_collate
    from mmengine.registry import init_default_scope
    from mmseg.registry import DATASETS

    from cen_mm.seg.visualization import RGBDSegVisualizationHook
    from tests.fixtures.tools import ROOT
    init_default_scope('mmseg')
    root = converted_nyud(str(tmp_path))
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'cen', 'refinenet_r101_nyud.py'))
    dataset_cfg = cfg.test_dataloader.dataset
    dataset_cfg.data_root = root
    dataset = DATASETS.build(dataset_cfg)
    batch = pseudo_collate([dataset[0]])
    outputs = []
    for sample in batch['data_samples']:
        sample = sample.clone()
        sample.pred_sem_seg = PixelData(data=sample.gt_sem_seg.data.clone())
        sample.set_field(PixelData(data=torch.zeros(1, NYU_H, NYU_W, dtype=torch.long)),
                         'pred_sem_seg_s0')
        outputs.append(sample)
    vis = _visualizer('hook_nyu', save_dir=str(tmp_path / 'show'),
                      vis_backends=[dict(type='LocalVisBackend')])
    hook = RGBDSegVisualizationHook(draw=True, interval=1)
    hook._visualizer = vis
    hook._after_iter(SimpleNamespace(iter=0), 0, batch, outputs, mode='test')
    files = glob.glob(str(tmp_path / 'show' / '**' / '*.png'), recursive=True)
    assert len(files) == 1
    picture = cv2.cvtColor(cv2.imread(files[0]), cv2.COLOR_BGR2RGB)
    scale = int(np.ceil(192 / NYU_H))
    pw = NYU_W * scale
    # rgb, depth, gt, ensemble, s0
    assert picture.shape == (22 + NYU_H * scale, 5 * pw + 4 * 4, 3)
    sample_index = int(osp.basename(outputs[0].img_path)[:-4])
    rgb_panel = picture[22:, :pw][::scale, ::scale]
    np.testing.assert_array_equal(rgb_panel, rgb_of(sample_index))


def test_hook_falls_back_to_mmseg_for_rgb_only_samples(tmp_path):
    """Samples without modality_channels: drawn from img_path as mmseg does."""
    from mmseg.structures import SegDataSample

    from cen_mm.seg.visualization import RGBDSegVisualizationHook
    img = np.zeros((10, 12, 3), np.uint8)
    img[..., 2] = 200
    path = str(tmp_path / 'plain.png')
    cv2.imwrite(path, img)
    sample = SegDataSample(metainfo=dict(img_path=path))
    sample.pred_sem_seg = PixelData(data=torch.ones(1, 10, 12, dtype=torch.long))
    vis = _visualizer('hook_plain', save_dir=str(tmp_path / 'show'),
                      vis_backends=[dict(type='LocalVisBackend')])
    hook = RGBDSegVisualizationHook(draw=True, interval=1)
    hook._visualizer = vis
    hook._after_iter(SimpleNamespace(iter=0), 0, dict(inputs=[torch.zeros(3, 10, 12)]),
                     [sample], mode='test')
    files = glob.glob(str(tmp_path / 'show' / '**' / '*.png'), recursive=True)
    assert len(files) == 1
    picture = cv2.cvtColor(cv2.imread(files[0]), cv2.COLOR_BGR2RGB)
    scale = int(np.ceil(192 / 10))
    assert picture.shape == (22 + 10 * scale, 2 * 12 * scale + 4, 3)  # image, pred
    np.testing.assert_array_equal(picture[22:, :12 * scale][::scale, ::scale],
                                  img[..., ::-1])


def test_exchange_bar_chart_heights():
    from cen_mm.seg.visualization import exchange_bar_chart
    layers = [dict(name='a', exchanged=[1.0, 0.0]), dict(name='b', exchanged=[0.0, 0.5])]
    chart = exchange_bar_chart(layers, 400, ['rgb', 'depth'])
    assert chart.shape == (140, 400, 3)
    colour0 = np.array([230, 80, 60])
    column = chart[:, 34 + 10]  # inside layer a, stream 0's bar
    filled = (column == colour0).all(axis=1)
    assert filled.sum() >= 100  # a full bar (100 %) spans the plot height
    column = chart[:, 34 + 183 + 10]  # inside layer b, stream 0's bar (0 %)
    assert (column == colour0).all(axis=1).sum() <= 2
