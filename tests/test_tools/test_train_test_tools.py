"""tools/train.py and tools/test.py end to end on tiny configs in both scopes."""
import glob
import json
import os.path as osp
import pickle
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from tests.fixtures.data import write_tiny_paired_dataset, write_tiny_seg_dataset
from tests.fixtures.tools import (TINY_PIX2PIX, TINY_SEG, run, seg_data_options,
                                  train)


def _scalars(work_dir):
    """All records of mmengine's scalars.json written under work_dir."""
    files = glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))
    assert files, f'no scalars.json under {work_dir}'
    with open(sorted(files)[-1]) as f:
        return [json.loads(line) for line in f if line.strip()]


@pytest.fixture(scope='module')
def seg_run(tmp_path_factory):
    """Train the tiny seg config for 4 iterations once; shared by the tests below."""
    tmp = tmp_path_factory.mktemp('seg')
    data = write_tiny_seg_dataset(str(tmp / 'data'))
    work = tmp / 'work'
    proc = train(TINY_SEG, work, '--cfg-options', *seg_data_options(data),
                 'train_cfg.max_iters=4', 'optim_wrapper.optimizer.lr=0.02')
    return dict(data=data, work=str(work), proc=proc)


@pytest.mark.e2e
def test_seg_train_writes_checkpoint_and_log(seg_run):
    work = seg_run['work']
    ckpt = torch.load(osp.join(work, 'iter_4.pth'), weights_only=False)
    assert ckpt['meta']['iter'] == 4
    # --cfg-options reached the optimizer actually used
    assert ckpt['optimizer']['param_groups'][0]['initial_lr'] == pytest.approx(0.02)
    # the checkpoint holds exactly the model's parameters (build the model from cfg)
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS
    init_default_scope('mmseg')
    model = MODELS.build(Config.fromfile(TINY_SEG).model)
    assert set(ckpt['state_dict']) == set(model.state_dict())
    # training changed the weights
    init = model.state_dict()['decode_head.conv_seg.weight']
    assert not torch.allclose(ckpt['state_dict']['decode_head.conv_seg.weight'], init)
    # the text log and the json scalars agree on the losses of every iteration
    logs = glob.glob(osp.join(work, '*', '*.log'))
    assert logs, 'no text log written'
    records = [r for r in _scalars(work) if 'loss' in r]
    assert [r['iter'] for r in records] == [1, 2, 3, 4]
    assert all(np.isfinite(r['loss']) for r in records)
    log_text = open(logs[0]).read()
    assert 'Iter(train) [4/4]' in log_text
    assert f"loss: {records[-1]['loss']:.4f}" in log_text


def _miou_from_predictions(pred_dir, data_root, num_classes=3):
    """Independent mIoU from saved label maps vs ground truth (numpy)."""
    inter = np.zeros(num_classes)
    union = np.zeros(num_classes)
    for gt_path in sorted(glob.glob(osp.join(data_root, 'ann_dir', 'val', '*.png'))):
        gt = np.array(Image.open(gt_path))
        pred = np.array(Image.open(osp.join(pred_dir, osp.basename(gt_path))))
        for c in range(num_classes):
            inter[c] += np.sum((gt == c) & (pred == c))
            union[c] += np.sum((gt == c) | (pred == c))
    valid = union > 0
    return 100 * np.mean(inter[valid] / union[valid])


@pytest.mark.e2e
def test_seg_test_tool_outputs(seg_run, tmp_path):
    ckpt = osp.join(seg_run['work'], 'iter_4.pth')
    opts = seg_data_options(seg_run['data'])
    pred_dir = tmp_path / 'pred'
    pkl = tmp_path / 'results.pkl'
    work = tmp_path / 'test_work'
    run([sys.executable, 'tools/test.py', TINY_SEG, ckpt, '--work-dir', str(work),
         '--out', str(pred_dir), '--show-dir', str(tmp_path / 'vis'), '--cfg-options',
         *opts])
    preds = sorted(glob.glob(str(pred_dir / '*.png')))
    assert len(preds) == 2
    # the mIoU the tool reports equals the one computed from its saved predictions
    metrics = json.load(open(sorted(glob.glob(str(work / '*' / '*.json')))[-1]))
    expected = _miou_from_predictions(str(pred_dir), seg_run['data'])
    assert metrics['mIoU'] == pytest.approx(expected, abs=0.01)
    vis = glob.glob(str(tmp_path / 'vis' / '**' / '*.png'), recursive=True)
    assert len(vis) == 2
    assert np.array(Image.open(vis[0])).std() > 0  # a drawn image, not blank
    # --out *.pkl: raw predictions
    run([sys.executable, 'tools/test.py', TINY_SEG, ckpt, '--work-dir', str(work),
         '--out', str(pkl), '--cfg-options', *opts])
    results = pickle.load(open(pkl, 'rb'))
    assert len(results) == 2
    for res, pred_path in zip(results, preds):
        assert np.array_equal(res['pred_sem_seg']['data'][0].numpy(),
                              np.array(Image.open(pred_path)))


@pytest.mark.e2e
def test_seg_test_tool_tta(seg_run, tmp_path):
    ckpt = osp.join(seg_run['work'], 'iter_4.pth')
    pkl = tmp_path / 'tta.pkl'
    run([sys.executable, 'tools/test.py', TINY_SEG, ckpt, '--tta', '--work-dir',
         str(tmp_path), '--out', str(pkl), '--cfg-options',
         *seg_data_options(seg_run['data'])])
    results = pickle.load(open(pkl, 'rb'))
    assert len(results) == 2
    assert tuple(results[0]['pred_sem_seg']['data'].shape[-2:]) == (32, 32)


@pytest.mark.e2e
def test_seg_train_amp_uses_amp_wrapper(seg_run, tmp_path):
    train(TINY_SEG, tmp_path, '--amp', '--cfg-options',
          *seg_data_options(seg_run['data']), 'train_cfg.max_iters=2',
          'train_cfg.val_interval=100')
    ckpt = torch.load(str(tmp_path / 'iter_2.pth'), weights_only=False)
    # the AMP wrapper's loss-scaler state is checkpointed alongside the optimizer
    assert 'loss_scaler' in ckpt['optimizer']
    assert all(torch.isfinite(v).all() for v in ckpt['state_dict'].values()
               if v.is_floating_point())


@pytest.mark.e2e
def test_seg_auto_scale_lr(seg_run, tmp_path):
    # base_batch_size=2 in the config; batch 4 on one process => lr x2
    train(TINY_SEG, tmp_path, '--auto-scale-lr', '--cfg-options',
          *seg_data_options(seg_run['data']), 'train_cfg.max_iters=2',
          'train_cfg.val_interval=100', 'train_dataloader.batch_size=4')
    ckpt = torch.load(str(tmp_path / 'iter_2.pth'), weights_only=False)
    assert ckpt['optimizer']['param_groups'][0]['initial_lr'] == pytest.approx(0.02)


@pytest.fixture(scope='module')
def paired_data(tmp_path_factory):
    return write_tiny_paired_dataset(str(tmp_path_factory.mktemp('pix') / 'data'))


@pytest.mark.e2e
@pytest.mark.parametrize('amp', [False, True])
def test_mmagic_scope_train(paired_data, tmp_path, amp):
    extra = ['--amp'] if amp else []
    train(TINY_PIX2PIX, tmp_path, *extra, '--cfg-options',
          f'train_dataloader.dataset.data_root={paired_data}')
    ckpt = torch.load(str(tmp_path / 'iter_4.pth'), weights_only=False)
    assert ckpt['meta']['iter'] == 4
    # mmagic's dict of optimizer wrappers: one state per wrapper (AMP: with scaler)
    assert set(ckpt['optimizer']) == {'generators', 'discriminators'}
    for state in ckpt['optimizer'].values():
        assert ('loss_scaler' in state) == amp
    records = [r for r in _scalars(str(tmp_path)) if 'loss_pixel' in r]
    assert [r['iter'] for r in records] == [1, 2, 3, 4]
    assert all(np.isfinite(r['loss_pixel']) for r in records)
