"""configs/cen/hha/: the segmentation paper configs with HHA instead of raw depth (issue
#18). Neither paper reports an RGB + HHA row, so each leaf must be its RGB-D sibling
with only the data swapped (same model, recipe, schedule, hooks) and say so; one of
them trains 2 iterations in-process on a converted fixture with a real hha/ folder
(e2e)."""
import argparse
import glob
import os.path as osp

import pytest
from mmengine.config import Config, DictAction

from tests.fixtures.tools import ROOT
from tests.test_configs.test_seg_config_training import (LAMBDA, R50_EXCHANGE_CHANNELS,
                                                         check_losses, read_scalars,
                                                         tiny_run_options)

CEN = osp.join(ROOT, 'configs', 'cen')
HHA_LEAVES = sorted(glob.glob(osp.join(CEN, 'hha', '*_hha.py')))
PAPER_LEAVES = sorted(glob.glob(osp.join(CEN, '*_nyud.py')) +
                      glob.glob(osp.join(CEN, '*_sunrgbd.py')))


def sibling(path):
    return osp.join(CEN, osp.basename(path)[:-len('_hha.py')] + '.py')


def test_every_paper_config_has_an_hha_version():
    assert [sibling(p) for p in HHA_LEAVES] == PAPER_LEAVES
    assert len(HHA_LEAVES) == 7


@pytest.mark.parametrize('path', HHA_LEAVES, ids=osp.basename)
def test_hha_leaf_is_its_rgbd_sibling_with_hha_data(path):
    hha = Config.fromfile(path).to_dict()
    rgbd = Config.fromfile(sibling(path)).to_dict()
    assert hha['rgbd_modality_channels'] == (3, 3)
    assert hha['model']['backbone'].pop('in_channels') == (3, 3)
    assert rgbd['model']['backbone'].pop('in_channels') == (3, 1)
    # HHA is normalised like RGB (ImageNet mean / std for all six channels)
    mean = hha['model']['data_preprocessor'].pop('mean')
    assert mean == [123.675, 116.28, 103.53] * 2
    rgbd['model']['data_preprocessor'].pop('mean')
    hha['model']['data_preprocessor'].pop('std')
    rgbd['model']['data_preprocessor'].pop('std')
    assert hha['model'] == rgbd['model']
    for key in ('optim_wrapper', 'param_scheduler', 'train_cfg', 'custom_hooks',
                'default_hooks', 'dataset_type', 'data_root'):
        assert hha[key] == rgbd[key], key
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        prefix = hha[loader]['dataset']['data_prefix']
        assert prefix['depth_path'].startswith('hha/'), loader
    assert hha['train_pipeline'][0]['depth_type'] == 'hha'
    with open(path) as f:  # the header, its lines joined
        text = ' '.join(line[2:].strip() for line in f if line.startswith('#'))
    assert 'Paper: no RGB + HHA row' in text and 'Ours: not measured' in text


@pytest.mark.e2e
def test_refinenet_nyud_hha_trains_two_iterations(tmp_path):
    from cen_mm.seg.datasets.official.hha_folder import write_hha_folder
    from cen_mm.utils import build_runner
    from tests.fixtures.converted_rgbd import converted_nyud
    root = converted_nyud(str(tmp_path), 'cen')
    write_hha_folder(root, intrinsics=[300, 300, 8, 6])
    config = osp.join(CEN, 'hha', 'refinenet_r101_nyud_hha.py')
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args(['--cfg-options', *tiny_run_options(config, root)])
    cfg = Config.fromfile(config)
    cfg.merge_from_dict(args.cfg_options)
    cfg.work_dir = str(tmp_path / 'work')
    # a visualizer of its own: mmengine keeps one instance per name per process, and
    # the runtime base names it 'visualizer', so a runner built earlier in this
    # process would otherwise receive this run's scalars in its own log dir
    cfg.experiment_name = cfg.visualizer.name = f'hha_{tmp_path.name}'
    runner = build_runner(cfg)
    assert list(runner.model.backbone.in_channels) == [3, 3]
    runner.train()

    train_records, val_records = read_scalars(cfg.work_dir)
    assert [r['iter'] for r in train_records] == [1, 2]
    for record in train_records:
        check_losses(record, ['s0.decode.loss_ce', 's1.decode.loss_ce',
                              'ens.decode.loss_ce'])
        # λ·Σ|γ| over each stream's own half of every exchanging BN (γ = 1 at init)
        assert record['sparsity_penalty'] == pytest.approx(
            LAMBDA * sum(R50_EXCHANGE_CHANNELS), rel=1e-3)
    (val, ) = val_records
    assert 0 <= val['mIoU'] <= 100
