"""configs/cen/ablations/{policies,cbn}/: the exchange-policy ablations of TPAMI'23
Table 1 / NeurIPS'20 §4.1 (fixed 30 %, random, stage-wise) and the CBN baseline
(NeurIPS'20 §4.1 item 2, Table 3). Each leaf differs from the full CEN
(refinenet_r101_nyud.py) only in its row's setting, carries the paper's numbers in its
header, builds the intended encoder (ResNet-101, meta device), and trains 2 iterations
+ validates at tiny sizes in-process (e2e; the size cuts of
test_seg_config_training.tiny_run_options)."""
import glob
import math
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

import cen_mm  # noqa: F401
from cen_mm.core import ModalityNorm, iter_exchanging_norms
from cen_mm.core.conditional_norm import ConditionalModalityNorm
from cen_mm.models.backbones.modality_conv import ModalityConv2d
from mmseg.registry import MODELS
from tests.fixtures.converted_rgbd import converted_nyud
from tests.fixtures.tools import ROOT

ABLATIONS = osp.join(ROOT, 'configs', 'cen', 'ablations')
FIXED = dict(type='fixed_ratio', ratio=0.3)
# leaf -> (backbone keys that differ from the full CEN, other model keys, hooks,
#          the paper's numbers as written in the header)
GRID = {
    'policies/refinenet_r101_nyud_exchange-fixed30.py':
        (dict(exchange_policy=FIXED), {}, ['ExchangeStatsHook'],
         'RGB 44.9, depth 40.3, ensemble 47.2'),
    'policies/refinenet_r101_nyud_exchange-random.py':
        (dict(exchange_policy=dict(type='random', ratio=0.3, test_mode='expected')),
         {}, ['ExchangeStatsHook'], 'RGB 44.2, depth 40.5, ensemble 46.8'),
    'policies/refinenet_r101_nyud_stagewise-fixed30.py':
        (dict(exchange_policy=FIXED, exchange_layers=r'layer\d\.0\.bn2'), {},
         ['ExchangeStatsHook'], 'mIoU): 48.6'),
    'cbn/refinenet_r101_nyud_cbn_convs-shared.py':
        (dict(exchange=False, conditional_norm=dict(source_stream=0, target_stream=1)),
         {}, [], 'mIoU 48.9 (pixel acc. 75.5, mean acc. 61.2)'),
    'cbn/refinenet_r101_nyud_cbn_convs-unshared.py':
        (dict(exchange=False, conditional_norm=dict(source_stream=0, target_stream=1),
              shared_convs=False), dict(shared_heads=False), [], 'mIoU): 48.3'),
}
# exchanging BNs of a ResNet-101 (after every 3x3 conv) and their widths
R101_BN2 = [64] * 3 + [128] * 4 + [256] * 23 + [512] * 3


def load(leaf: str) -> Config:
    return Config.fromfile(osp.join(ABLATIONS, leaf))


def _model_keys(model: dict) -> dict:
    """Top-level model keys, with the backbone's keys as ``backbone.<key>``."""
    out = {f'backbone.{k}': v for k, v in model['backbone'].items()}
    out.update({k: v for k, v in model.items() if k != 'backbone'})
    return out


def test_the_grid_is_complete():
    on_disk = {osp.relpath(p, ABLATIONS) for folder in ('policies', 'cbn')
               for p in glob.glob(osp.join(ABLATIONS, folder, '*.py'))}
    assert on_disk == set(GRID)


@pytest.fixture(scope='module')
def full_cen():
    return Config.fromfile(osp.join(ROOT, 'configs', 'cen', 'refinenet_r101_nyud.py'))


@pytest.mark.parametrize('leaf', sorted(GRID))
def test_leaf_differs_only_in_its_row(leaf, full_cen):
    backbone, model_keys, hooks, paper = GRID[leaf]
    cfg = load(leaf)
    header = ' '.join(line.lstrip('# ').strip() for line in open(
        osp.join(ABLATIONS, leaf)) if line.startswith('#'))
    assert paper in header and 'Not measured by us' in header
    ignore = {'model', 'custom_hooks', 'filename', 'text'}
    assert ({k: v for k, v in cfg.to_dict().items() if k not in ignore}
            == {k: v for k, v in full_cen.to_dict().items() if k not in ignore})
    ours, theirs = (_model_keys(cfg.model.to_dict()),
                    _model_keys(full_cen.model.to_dict()))
    changed = {k: ours.get(k) for k in ours.keys() | theirs.keys()
               if ours.get(k) != theirs.get(k)}
    expected = {f'backbone.{k}': v for k, v in backbone.items()}
    expected.update(model_keys)
    assert changed == expected
    assert [h['type'] for h in cfg.custom_hooks] == hooks
    if hooks:  # the base's statistics hook, unchanged
        assert cfg.custom_hooks[0] == full_cen.custom_hooks[1]


@pytest.mark.parametrize('leaf', sorted(GRID))
def test_leaf_builds_its_encoder(leaf):
    cfg = load(leaf)
    with DefaultScope.overwrite_default_scope('mmseg'), torch.device('meta'):
        backbone = MODELS.build(dict(cfg.model.backbone, init_cfg=None))
    exchanging = list(iter_exchanging_norms(backbone))
    cbns = [m for m in backbone.modules() if isinstance(m, ConditionalModalityNorm)]
    policy = cfg.model.backbone.get('exchange_policy')
    if 'stagewise' in leaf:
        assert [n for n, _ in exchanging] == [f'layer{i}.0.bn2' for i in (1, 2, 3, 4)]
        assert [m.num_features for _, m in exchanging] == [64, 128, 256, 512]
    elif policy is not None:
        assert [m.num_features for _, m in exchanging] == R101_BN2
    else:
        assert not exchanging and [m.num_features for m in cbns] == R101_BN2
    assert all(type(m.exchange_policy).__name__ == {
        'fixed_ratio': 'FixedRatioExchange', 'random': 'RandomExchange'}[policy['type']]
        for _, m in exchanging)
    norms = [m for m in backbone.modules() if isinstance(m, ModalityNorm)]
    assert len(norms) == 104  # one per conv, CBN included
    unshared = [m for m in backbone.modules() if isinstance(m, ModalityConv2d)]
    assert len(unshared) == (104 if 'convs-unshared' in leaf else 0)


# ---- 2 training iterations + validation, tiny sizes ----------------------------------
def tiny_options(cfg: Config, data_root: str, work_dir: str) -> dict:
    """The size cuts of test_seg_config_training.tiny_run_options, as a dict (these
    leaves have no l1 hook): ResNet-50, 64 px, narrow RefineNet, no pretrained weights
    (so BN statistics are trained: norm_eval=False); further a quarter-width encoder
    (base_channels=16) and no checkpoint, to keep 5 trainings short."""
    opts = {'work_dir': work_dir}
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        opts.update({f'{loader}.dataset.data_root': data_root,
                     f'{loader}.num_workers': 0, f'{loader}.persistent_workers': False})
    types = [t['type'] for t in cfg.train_dataloader.dataset.pipeline]
    pipeline = 'train_dataloader.dataset.pipeline'
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
        'randomness': dict(seed=0),
    })
    hooks = [h['type'] for h in cfg.custom_hooks]
    if 'ExchangeStatsHook' in hooks:
        index = hooks.index('ExchangeStatsHook')
        opts.update({f'custom_hooks.{index}.interval': 1,
                     f'custom_hooks.{index}.draw': False})  # matplotlib: seconds
    return opts


@pytest.fixture(scope='module')
def nyud_root(tmp_path_factory):
    return converted_nyud(str(tmp_path_factory.mktemp('policies')), 'cen')


@pytest.mark.e2e
@pytest.mark.parametrize('leaf', sorted(GRID))
def test_leaf_trains_two_iterations(leaf, nyud_root, tmp_path, monkeypatch):
    from mmengine.runner import Runner

    from cen_mm.engine.runner import CENRunner

    # the environment report (compiler / git subprocesses) costs seconds per runner
    monkeypatch.setattr(Runner, '_log_env', lambda self, *args, **kwargs: None)
    cfg = load(leaf)
    cfg.merge_from_dict(tiny_options(cfg, nyud_root, str(tmp_path / 'work')))
    runner = CENRunner.from_cfg(cfg)
    model = runner.train()
    assert runner.iter == 2
    scalars = runner.message_hub.log_scalars
    losses = {k: v.current() for k, v in scalars.items()
              if k.startswith('train/') and 'loss' in k}
    assert {'train/s0.decode.loss_ce', 'train/s1.decode.loss_ce',
            'train/ens.decode.loss_ce'} <= set(losses)
    assert all(math.isfinite(v) and v > 0 for v in losses.values())
    assert 0 <= scalars['val/mIoU'].current() <= 100

    backbone = model.backbone
    exchanging = [m for _, m in iter_exchanging_norms(backbone)]
    cbns = [m for m in backbone.modules() if isinstance(m, ConditionalModalityNorm)]
    if 'cbn' in leaf:
        assert len(cbns) == 16 and not exchanging  # every bn2 of a ResNet-50
        # the modulation MLPs (zero-initialised last layer) were trained
        assert all(m.condition[2].weight.abs().sum() > 0 for m in cbns)
    else:
        assert len(exchanging) == (4 if 'stagewise' in leaf else 16) and not cbns
        # 30 % of each sub-part: layer1's 16 channels -> round(2.4) = 2 per stream
        assert exchanging[0].exchange_mask().sum(dim=1).tolist() == [2, 2]
        assert exchanging[-1].exchange_mask().sum(dim=1).tolist() == [19, 19]  # 128
