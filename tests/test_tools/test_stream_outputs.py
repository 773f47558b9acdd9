"""tools/test.py on the README's demo config: --show-dir draws every sample (no image
files exist), --out / --out-streams write label maps equal to the model's predictions,
and StreamIoUMetric labels its tables; the metric's file output in-process."""
import glob
import os.path as osp
import sys
from unittest import mock

import cv2
import numpy as np
import pytest
import torch
from mmengine.structures import PixelData

from tests.fixtures.tools import run
from tests.fixtures.rgbd_demo import (DEMO, demo_model, reference_predictions,
                                           save_checkpoint)


@pytest.fixture(scope='module')
def demo_ckpt(tmp_path_factory):
    model = demo_model()
    return model, save_checkpoint(model, str(tmp_path_factory.mktemp('ckpt') / 'd.pth'))


@pytest.mark.e2e
def test_test_tool_show_dir_and_out_on_demo_config(tmp_path, demo_ckpt):
    from cen_mm.seg.datasets import SynthRGBDDataset
    model, ckpt = demo_ckpt
    show, out = tmp_path / 'show', tmp_path / 'labels'
    proc = run([sys.executable, 'tools/test.py', DEMO, ckpt, '--work-dir',
                str(tmp_path / 'work'), '--show-dir', str(show), '--out', str(out),
                '--out-streams', '--cfg-options',
                'test_dataloader.dataset.num_samples=2', 'test_dataloader.batch_size=2'])
    log = proc.stdout + proc.stderr
    assert 'ensemble (pred_sem_seg' in log
    assert 'stream 0 (pred_sem_seg_s0)' in log and 'stream 1 (pred_sem_seg_s1)' in log
    pictures = sorted(glob.glob(str(show / '**' / '*.png'), recursive=True))
    assert len(pictures) == 2
    picture = cv2.imread(pictures[0])
    scale = int(np.ceil(192 / 48))
    # rgb, depth, ground truth, ensemble, stream 0, stream 1
    assert picture.shape[1] == 6 * 48 * scale + 5 * 4
    dataset = SynthRGBDDataset(split='val', num_samples=2, image_size=48, seed=0,
                               test_mode=True)
    for i in range(2):
        info = dataset.get_data_info(i)
        ens, streams = reference_predictions(model, info['img'])
        name = f'{i:06d}.png'
        np.testing.assert_array_equal(
            cv2.imread(str(out / name), cv2.IMREAD_UNCHANGED), ens)
        for m in range(2):
            np.testing.assert_array_equal(
                cv2.imread(str(out / f's{m}' / name), cv2.IMREAD_UNCHANGED), streams[m])


@pytest.mark.e2e
def test_test_tool_tta_on_demo_config(tmp_path, demo_ckpt):
    """--tta uses the demo config's tta_pipeline; single-view stream maps are dropped,
    so only the ensemble is evaluated."""
    proc = run([sys.executable, 'tools/test.py', DEMO, demo_ckpt[1], '--tta',
                '--work-dir', str(tmp_path / 'work'), '--show-dir', str(tmp_path / 'vis'),
                '--cfg-options', 'test_dataloader.dataset.num_samples=2',
                'test_dataloader.batch_size=2'])
    log = proc.stdout + proc.stderr
    assert 'Iter(test) [1/1]' in log and ' mIoU: ' in log
    assert 's0.mIoU' not in log and 'per-stream predictions are not averaged' in log
    # pictures from the first view: rgb, depth, ground truth, (ensemble) prediction
    pictures = sorted(glob.glob(str(tmp_path / 'vis' / '**' / '*.png'), recursive=True))
    assert len(pictures) == 2
    assert cv2.imread(pictures[0]).shape[1] == 4 * 48 * 4 + 3 * 4


def test_stream_tta_model_averages_ensemble_and_drops_streams():
    from mmseg.structures import SegDataSample

    from cen_mm.seg.apis import StreamSegTTAModel
    module = mock.Mock(out_channels=3)
    tta = StreamSegTTAModel.__new__(StreamSegTTAModel)
    torch.nn.Module.__init__(tta)
    tta.module = module
    views, logits = [], [torch.randn(3, 4, 5) for _ in range(3)]
    for logit in logits:
        sample = SegDataSample(metainfo=dict(img_path='a.png'))
        sample.seg_logits = PixelData(data=logit)
        sample.gt_sem_seg = PixelData(data=torch.zeros(1, 4, 5, dtype=torch.long))
        sample.set_field(PixelData(data=torch.ones(1, 4, 5)), 'pred_sem_seg_s0')
        views.append(sample)
    merged = tta.merge_preds([views])[0]
    expected = torch.stack([x.softmax(0) for x in logits]).mean(0).argmax(0)
    assert torch.equal(merged.pred_sem_seg.data.squeeze(0), expected)
    assert 'pred_sem_seg_s0' not in merged


def _batch(rng, n=2, size=6):
    samples = []
    for i in range(n):
        sample = dict(img_path=f'/data/img_{i}.png',
                      gt_sem_seg=dict(data=torch.from_numpy(rng.integers(0, 3,
                                                                         (1, size, size)))))
        for key in ('pred_sem_seg', 'pred_sem_seg_s0', 'pred_sem_seg_s1'):
            sample[key] = dict(data=torch.from_numpy(rng.integers(0, 3, (1, size, size))))
        samples.append(sample)
    return samples


def test_metric_writes_label_maps_and_labelled_tables(tmp_path):
    from cen_mm.seg.evaluation import StreamIoUMetric
    rng = np.random.default_rng(0)
    metric = StreamIoUMetric(output_dir=str(tmp_path / 'o'), output_streams=True,
                             stream_names=['rgb', 'depth'])
    metric.dataset_meta = dict(classes=('a', 'b', 'c'))
    batch = _batch(rng)
    metric.process({}, batch)
    for i, sample in enumerate(batch):
        for key, folder in (('pred_sem_seg', ''), ('pred_sem_seg_s0', 's0'),
                            ('pred_sem_seg_s1', 's1')):
            saved = cv2.imread(osp.join(str(tmp_path / 'o'), folder, f'img_{i}.png'),
                               cv2.IMREAD_UNCHANGED)
            np.testing.assert_array_equal(saved, sample[key]['data'][0].numpy())
    assert not glob.glob(str(tmp_path / 'o' / '**' / '*.tmp*'), recursive=True)
    with mock.patch('cen_mm.seg.evaluation.stream_iou_metric.print_log') as log:
        metrics = metric.compute_metrics(metric.results)
    headings = [c.args[0] for c in log.call_args_list]
    assert headings[0].startswith('===== ensemble (pred_sem_seg')
    assert "stream 0 'rgb' (pred_sem_seg_s0)" in headings[1]
    assert "stream 1 'depth' (pred_sem_seg_s1)" in headings[2]
    assert {'mIoU', 's0.mIoU', 's1.mIoU'} <= set(metrics)


def test_metric_format_only_without_labels_and_ensemble_only(tmp_path):
    from cen_mm.seg.evaluation import StreamIoUMetric
    rng = np.random.default_rng(1)
    metric = StreamIoUMetric(output_dir=str(tmp_path / 'o'), format_only=True)
    metric.dataset_meta = dict(classes=('a', 'b', 'c'))
    batch = _batch(rng)
    for sample in batch:
        del sample['gt_sem_seg']
    metric.process({}, batch)
    assert metric.results == []
    assert sorted(p.name for p in (tmp_path / 'o').iterdir()) == ['img_0.png',
                                                                  'img_1.png']
    assert metric.compute_metrics([]) == {}
