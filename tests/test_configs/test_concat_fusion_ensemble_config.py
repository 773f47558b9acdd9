"""configs/cen/ablations/ensemble/refinenet_r101_nyud_concat-fusion-ensemble.py
(NeurIPS'20 §4.1 ablation 4): differs from the full CEN only in its ensemble, states the paper's
number, and trains 2 iterations + validates in-process at tiny sizes (e2e; the size cuts
of test_seg_config_training.tiny_run_options)."""
import math
import os.path as osp

import pytest
import torch
from mmengine.config import Config

import cen_mm  # noqa: F401
from tests.fixtures.converted_rgbd import converted_nyud
from tests.fixtures.tools import ROOT

LEAF = osp.join(ROOT, 'configs', 'cen', 'ablations', 'ensemble',
                'refinenet_r101_nyud_concat-fusion-ensemble.py')
FULL = osp.join(ROOT, 'configs', 'cen', 'refinenet_r101_nyud.py')


def test_leaf_differs_only_in_its_ensemble_and_states_the_paper():
    leaf, full = Config.fromfile(LEAF), Config.fromfile(FULL)
    assert leaf.model.ensemble == dict(type='ConcatFusionEnsemble')
    assert {k: v for k, v in leaf.model.items() if k != 'ensemble'} == full.model
    keys = leaf.optim_wrapper.paramwise_cfg.custom_keys
    assert keys['ensemble'] == dict(lr_mult=full.decoder_lr_mult)
    with open(LEAF) as f:
        header = f.read()
    assert 'Paper: 50.8' in header and '51.1' in header and '§4.1' in header


def _tiny(cfg: Config, data_root: str, work_dir: str) -> dict:
    """ResNet-50 at a quarter width, 64 px crops, narrow RefineNet, no pretrained
    weights (BN statistics trained: norm_eval=False), no checkpoint."""
    opts = {'work_dir': work_dir, 'randomness': dict(seed=0)}
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        opts.update({f'{loader}.dataset.data_root': data_root,
                     f'{loader}.num_workers': 0, f'{loader}.persistent_workers': False})
    types = [t['type'] for t in cfg.train_dataloader.dataset.pipeline]
    pipeline = 'train_dataloader.dataset.pipeline'
    hooks = [h['type'] for h in cfg.custom_hooks]
    opts.update({
        'train_dataloader.batch_size': 2,
        f'{pipeline}.{types.index("RandomResize")}.scale': (64, 48),
        f'{pipeline}.{types.index("RandomCrop")}.crop_size': (64, 64),
        'model.data_preprocessor.size': (64, 64),
        'model.backbone.depth': 50, 'model.backbone.init_cfg': None,
        'model.backbone.norm_eval': False, 'model.backbone.base_channels': 16,
        'model.decode_head.in_channels': (64, 128, 256, 512),
        'model.decode_head.stage_channels': (32, 16, 16, 16),
        'train_cfg.max_epochs': 1, 'train_cfg.val_interval': 1,
        'default_hooks.logger.interval': 1, 'default_hooks.checkpoint': None,
        f'custom_hooks.{hooks.index("CENSparsityHook")}.log_interval': 1,
    })
    if 'ExchangeStatsHook' in hooks:
        index = hooks.index('ExchangeStatsHook')
        opts.update({f'custom_hooks.{index}.interval': 1,
                     f'custom_hooks.{index}.draw': False})
    return opts


@pytest.mark.e2e
def test_leaf_trains_two_iterations(tmp_path, monkeypatch):
    from mmengine.runner import Runner

    from cen_mm.core import ConcatFusionEnsemble
    from cen_mm.engine.runner import CENRunner

    monkeypatch.setattr(Runner, '_log_env', lambda self, *args, **kwargs: None)
    data_root = converted_nyud(str(tmp_path / 'data'), 'cen')
    cfg = Config.fromfile(LEAF)
    cfg.merge_from_dict(_tiny(cfg, data_root, str(tmp_path / 'work')))
    runner = CENRunner.from_cfg(cfg)
    fuse = runner.model.ensemble.fuse
    start = fuse.weight.detach().clone()
    model = runner.train()
    assert runner.iter == 2
    assert isinstance(model.ensemble, ConcatFusionEnsemble) and model.alpha is None
    assert fuse.weight.shape == (40, 80, 1, 1)
    assert not torch.equal(fuse.weight.detach(), start)  # trained by the ensemble loss
    # its learning rate is the decoder's (3e-3), not the encoder's (5e-4)
    lrs = {id(p): g['lr'] for g in runner.optim_wrapper.optimizer.param_groups
           for p in g['params']}
    assert lrs[id(fuse.weight)] == pytest.approx(6 * lrs[id(model.backbone.conv1.weight)])
    scalars = runner.message_hub.log_scalars
    losses = {k: v.current() for k, v in scalars.items()
              if k.startswith('train/') and 'loss' in k}
    assert {'train/s0.decode.loss_ce', 'train/s1.decode.loss_ce',
            'train/ens.decode.loss_ce'} <= set(losses)
    assert all(math.isfinite(v) and v > 0 for v in losses.values())
    assert 0 <= scalars['val/mIoU'].current() <= 100
