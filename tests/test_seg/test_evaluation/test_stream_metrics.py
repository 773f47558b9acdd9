"""Per-stream predictions in one evaluation: CENEncoderDecoder(stream_predictions) and
StreamIoUMetric, checked against separate single-output predictions and a numpy IoU."""
import numpy as np
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmseg.structures import SegDataSample
from mmengine.structures import PixelData

import cen_mm  # noqa: F401
from tests.fixtures.tools import ROOT

DEMO = f'{ROOT}/configs/cen/demo_refinenet_r18_synthrgbd.py'


def _model():
    from mmseg.registry import MODELS
    cfg = Config.fromfile(DEMO).model
    cfg.backbone.base_channels = cfg.backbone.stem_channels = 8
    cfg.decode_head.in_channels = (8, 16, 32, 64)
    cfg.decode_head.stage_channels = (16, 8, 8, 8)
    with DefaultScope.overwrite_default_scope('mmseg'):
        model = MODELS.build(cfg)
    model.init_weights()
    return model.eval()


def _samples(n, size, num_classes, seed=0):
    rng = np.random.default_rng(seed)
    samples = []
    for _ in range(n):
        s = SegDataSample(metainfo=dict(img_shape=(size, size), ori_shape=(size, size),
                                        pad_shape=(size, size),
                                        padding_size=[0, 0, 0, 0]))
        label = torch.from_numpy(rng.integers(0, num_classes, (1, size, size)))
        s.gt_sem_seg = PixelData(data=label)
        samples.append(s)
    return samples


def test_stream_predictions_equal_single_output_predictions():
    torch.manual_seed(0)
    model = _model()
    model.alpha.data = torch.tensor([0.4, -0.1])
    x = torch.randn(2, 4, 32, 32)
    with torch.no_grad():
        res = model.predict(x, _samples(2, 32, 5))
        singles = {}
        for out in (0, 1):
            model.test_cfg['output'] = out
            singles[out] = model.predict(x, _samples(2, 32, 5))
        model.test_cfg['output'] = 'ensemble'
        ens = model.predict(x, _samples(2, 32, 5))
    assert model.test_cfg['output'] == 'ensemble'  # restored after predict
    for i in range(2):
        assert torch.equal(res[i].pred_sem_seg.data, ens[i].pred_sem_seg.data)
        for m in (0, 1):
            assert torch.equal(res[i].get(f'pred_sem_seg_s{m}').data,
                               singles[m][i].pred_sem_seg.data)


def _miou(preds, labels, num_classes):
    inter = np.zeros(num_classes)
    union = np.zeros(num_classes)
    for p, t in zip(preds, labels):
        for c in range(num_classes):
            inter[c] += np.sum((p == c) & (t == c))
            union[c] += np.sum((p == c) | (t == c))
    return 100 * np.nanmean(np.where(union > 0, inter / np.maximum(union, 1), np.nan))


def test_stream_iou_metric_matches_numpy():
    from cen_mm.seg.evaluation import StreamIoUMetric
    rng = np.random.default_rng(1)
    metric = StreamIoUMetric(iou_metrics=['mIoU'])
    metric.dataset_meta = dict(classes=('a', 'b', 'c'))
    labels, preds = [], {k: [] for k in ('', 's0', 's1')}
    batch = []
    for _ in range(3):
        label = rng.integers(0, 3, (8, 8))
        sample = dict(gt_sem_seg=dict(data=torch.from_numpy(label)[None]))
        for key in preds:
            pred = rng.integers(0, 3, (8, 8))
            preds[key].append(pred)
            name = 'pred_sem_seg' + (f'_{key}' if key else '')
            sample[name] = dict(data=torch.from_numpy(pred)[None])
        labels.append(label)
        batch.append(sample)
    metric.process({}, batch)
    out = metric.compute_metrics(metric.results)
    assert out['mIoU'] == round(_miou(preds[''], labels, 3), 2)
    assert out['s0.mIoU'] == round(_miou(preds['s0'], labels, 3), 2)
    assert out['s1.mIoU'] == round(_miou(preds['s1'], labels, 3), 2)
