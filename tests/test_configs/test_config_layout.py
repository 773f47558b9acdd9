"""Segmentation configs state only what differs: the CEN hooks live in
_base_/default_runtime.py, the NYUDv2 / SUN RGB-D dataset bases share one protocol
(_base_/datasets/rgbd_seg_common[_hha].py) and differ only in dataset type and root."""
import glob
import os.path as osp
import re

from mmengine.config import Config

from tests.fixtures.tools import ROOT

DATASETS = osp.join(ROOT, 'configs', '_base_', 'datasets')
SEG_LEAVES = sorted(glob.glob(osp.join(ROOT, 'configs', 'cen', '**', '*.py'),
                              recursive=True))


def _load(name):
    return Config.fromfile(osp.join(DATASETS, name), import_custom_modules=False)


def test_no_seg_leaf_restates_the_cen_hooks():
    hooks = _load('../default_runtime.py').custom_hooks
    assert [h.type for h in hooks] == ['CENSparsityHook', 'ExchangeStatsHook']
    assert hooks[0].lambda_ == 5e-3 and hooks[0].penalty_channels == 'subpart'
    for path in SEG_LEAVES:
        text = open(path).read()
        # a leaf may drop the hooks or change a key of the base's, not copy them
        assert not re.search(r"dict\(type='CENSparsityHook', lambda_=5e-3", text), path


def test_rgbd_dataset_bases_differ_only_in_type_and_root():
    for depth in ('', '_hha'):
        nyud = _load(f'nyud_rgbd{depth}.py').to_dict()
        sun = _load(f'sunrgbd_rgbd{depth}.py').to_dict()
        common = _load(f'rgbd_seg_common{depth}.py').to_dict()
        assert nyud['dataset_type'] == 'NYUDv2Dataset'
        assert sun['dataset_type'] == 'SUNRGBDDataset'
        for cfg in (nyud, sun):
            for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
                dataset = cfg[loader]['dataset']
                assert dataset.pop('type') == cfg['dataset_type']
                assert dataset.pop('data_root') == cfg['data_root']
                assert dataset == common[loader]['dataset'], (depth, loader)
            for key in ('dataset_type', 'data_root', 'filename'):
                cfg.pop(key, None)
        common.pop('filename', None)
        assert nyud == sun == common
        expected_depth = 'hha' if depth else 'depth'
        assert common['train_dataloader']['dataset']['data_prefix']['depth_path'] == \
            f'{expected_depth}/train'
        assert common['train_pipeline'][0]['depth_type'] == expected_depth
        assert common['tta_pipeline'][0]['depth_type'] == expected_depth
