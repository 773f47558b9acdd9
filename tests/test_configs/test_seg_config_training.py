"""``tools/train.py`` runs the paper configs end to end (2 iterations, one epoch of 4
tiny samples, validation, checkpoint) on fixture downloads converted with our
converters: RefineNet/NYUDv2 from the CEN release layout, PSPNet/SUN RGB-D from the
CMX/DFormer layout; ``tools/test.py --tta`` evaluates the NYUDv2 checkpoint multi-scale.

Sizes are cut through ``--cfg-options`` only: ResNet-50 instead of 101/152 (same
feature channels, so the heads are unchanged in structure), narrower heads, 64 px crops,
no pretrained weights. Without ImageNet weights the BN running statistics are the
initial 0/1, so ``norm_eval=True`` would leave the features unnormalised (the loss
explodes within 2 iterations); these runs therefore train BN statistics
(``norm_eval=False``).
"""
import glob
import json
import math
import os.path as osp
import sys

import cv2
import pytest
import torch
from mmengine.config import Config

from tests.fixtures.converted_rgbd import converted_nyud, converted_sunrgbd
from tests.fixtures.tools import ROOT, run, train

# channels of the exchanging BNs (after each 3x3 conv) of a ResNet-50
R50_EXCHANGE_CHANNELS = [64] * 3 + [128] * 4 + [256] * 6 + [512] * 3
LAMBDA = 5e-3


def tiny_run_options(config: str, data_root: str) -> list:
    """--cfg-options making the real config run in seconds on CPU."""
    cfg = Config.fromfile(config)
    opts = []
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        opts += [f'{loader}.dataset.data_root={data_root}', f'{loader}.num_workers=0',
                 f'{loader}.persistent_workers=False']
    types = [t['type'] for t in cfg.train_dataloader.dataset.pipeline]
    pipeline = 'train_dataloader.dataset.pipeline'
    opts += [
        'train_dataloader.batch_size=2',
        f'{pipeline}.{types.index("RandomResize")}.scale=(64,48)',
        f'{pipeline}.{types.index("RandomCrop")}.crop_size=(64,64)',
        'model.data_preprocessor.size=(64,64)',
        'model.backbone.depth=50', 'model.backbone.init_cfg=None',
        'model.backbone.norm_eval=False',
        'train_cfg.max_epochs=1', 'train_cfg.val_interval=1',
        'default_hooks.logger.interval=1', 'default_hooks.checkpoint.interval=1',
    ]
    hooks = [h['type'] for h in cfg.custom_hooks]
    opts += [f'custom_hooks.{hooks.index("CENSparsityHook")}.log_interval=1',
             f'custom_hooks.{hooks.index("ExchangeStatsHook")}.interval=1']
    if cfg.model.decode_head.type == 'RefineNetHead':
        opts.append('model.decode_head.stage_channels=(32,16,16,16)')
    else:
        opts += ['model.decode_head.channels=16', 'model.auxiliary_head.channels=16']
    return opts


def read_scalars(work_dir: str):
    (path, ) = [osp.join(d, 'vis_data', 'scalars.json')
                for d in sorted(glob.glob(osp.join(work_dir, '2*')))]
    with open(path) as f:
        records = [json.loads(line) for line in f]
    train_records = [r for r in records if 'loss' in r]
    val_records = [r for r in records if 'mIoU' in r]
    return train_records, val_records


def check_losses(record: dict, loss_keys: list) -> None:
    """Every stream and the ensemble have a finite positive loss; the total is their
    sum (mmseg sums every '*loss*' entry)."""
    for key in loss_keys:
        assert math.isfinite(record[key]) and record[key] > 0, key
    assert record['loss'] == pytest.approx(sum(record[k] for k in loss_keys), rel=1e-4)


def check_training_outputs(work_dir: str, loss_keys: list) -> None:
    # checkpoint after epoch 1 = iteration 2, with both streams' BNs and the ensemble
    ckpt = torch.load(osp.join(work_dir, 'epoch_1.pth'), map_location='cpu',
                      weights_only=False)
    assert (ckpt['meta']['epoch'], ckpt['meta']['iter']) == (1, 2)
    state = ckpt['state_dict']
    assert {'backbone.layer3.5.bn2.norms.0.weight',
            'backbone.layer3.5.bn2.norms.1.weight', 'ensemble.alpha'} <= set(state)
    assert 'backbone.layer3.6.bn2.norms.0.weight' not in state  # ResNet-50: 6 blocks

    train_records, val_records = read_scalars(work_dir)
    assert [r['iter'] for r in train_records] == [1, 2]
    for record in train_records:
        check_losses(record, loss_keys)
        # lambda * sum|gamma| over each stream's own half of every exchanging BN,
        # gamma = 1 at init (moved by at most 2 small SGD steps)
        assert record['sparsity_penalty'] == pytest.approx(
            LAMBDA * sum(R50_EXCHANGE_CHANNELS), rel=1e-3)
        assert record['exchanged_frac'] == 0  # |gamma| ~ 1 > theta: nothing yet
    (val, ) = val_records
    assert 0 <= val['mIoU'] <= 100 and 0 <= val['aAcc'] <= 100

    with open(osp.join(work_dir, 'exchange_stats.jsonl')) as f:
        stats = [json.loads(line) for line in f]
    assert [s['iter'] for s in stats] == [0, 1, 2]
    for record in stats:
        assert record['stream_names'] == ['rgb', 'depth']
        assert [layer['num_channels'] for layer in record['layers']] == \
            R50_EXCHANGE_CHANNELS


@pytest.fixture(scope='module')
def nyud_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('nyud_train')
    root = converted_nyud(str(tmp), 'cen')
    config = osp.join(ROOT, 'configs', 'cen', 'refinenet_r101_nyud.py')
    opts = tiny_run_options(config, root)
    work_dir = str(tmp / 'work')
    train(config, work_dir, '--cfg-options', *opts)
    return config, work_dir, opts, tmp


@pytest.mark.e2e
def test_refinenet_nyud_trains_two_iterations(nyud_run):
    _, work_dir, _, _ = nyud_run
    check_training_outputs(work_dir, ['s0.decode.loss_ce', 's1.decode.loss_ce',
                                      'ens.decode.loss_ce'])


@pytest.mark.e2e
def test_refinenet_nyud_multi_scale_flip_test(nyud_run):
    """``tools/test.py --tta``: SegTTAModel over 6 scales x 2 flips of the dataset
    config's tta_pipeline; predictions come back at the original image size."""
    config, work_dir, opts, tmp = nyud_run
    out_dir = str(tmp / 'tta_pred')
    proc = run([sys.executable, 'tools/test.py', config,
                osp.join(work_dir, 'epoch_1.pth'), '--tta', '--out', out_dir,
                '--work-dir', str(tmp / 'tta_work'), '--cfg-options', *opts])
    assert 'mIoU' in proc.stdout + proc.stderr
    preds = sorted(glob.glob(osp.join(out_dir, '*.png')))
    assert [osp.basename(p) for p in preds] == ['000005.png', '000006.png']
    for path in preds:
        pred = cv2.imread(path, cv2.IMREAD_UNCHANGED)
        assert pred.shape == (24, 32) and pred.max() < 40


@pytest.mark.e2e
def test_pspnet_sunrgbd_trains_two_iterations(tmp_path):
    root = converted_sunrgbd(str(tmp_path))
    config = osp.join(ROOT, 'configs', 'cen', 'pspnet_r152_sunrgbd.py')
    work_dir = str(tmp_path / 'work')
    train(config, work_dir, '--cfg-options', *tiny_run_options(config, root))
    check_training_outputs(work_dir, [
        's0.decode.loss_ce', 's1.decode.loss_ce', 'ens.decode.loss_ce',
        's0.aux.loss_ce', 's1.aux.loss_ce'])
