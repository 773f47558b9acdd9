"""configs/cen_pix2pix/fusion_baselines/: the translation fusion baselines of NeurIPS'20
Table 4 and supplementary Table 6 -- 5 cases x 4 methods, the fusion point (early /
middle / late / all) a ``--cfg-options`` of each. Every leaf parses, is consistent with
its name, builds at every fusion point (meta device), and carries the paper's numbers in
its header. e2e: every method at every fusion point runs 2 training steps of its
config's model on its config's data pipeline at tiny sizes (the five cases in turn),
two of them through the Runner (2 iterations + validation with the evaluators)."""
import glob
import json
import math
import os.path as osp
import re

import pytest
import torch
from mmengine import MessageHub
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.optim import OptimWrapper, OptimWrapperDict
from mmengine.registry import DefaultScope

import cen_mm.translation  # noqa: F401
from cen_mm.translation.task_keys import CENTranslationRunner, fill_task_keys
from mmagic.registry import DATASETS, MODELS
from tests.fixtures.tools import ROOT
from tests.fixtures.translation_data import (write_stand_in_inception,
                                             write_tiny_taskonomy)

FOLDER = osp.join(ROOT, 'configs', 'cen_pix2pix', 'fusion_baselines')
METHODS = {'concat': 'ConcatFusion', 'average': 'AverageFusion', 'align': 'AlignFusion',
           'self-att': 'SSMAFusion'}
CASES = {  # NeurIPS'20 Table 4 (to RGB) and supp. Table 6
    'shade+texture-to-rgb': (['reshading', 'edge_texture'], 'rgb'),
    'depth+normal-to-rgb': (['depth_euclidean', 'normal'], 'rgb'),
    'rgb+shade-to-normal': (['rgb', 'reshading'], 'normal'),
    'rgb+normal-to-shade': (['rgb', 'normal'], 'reshading'),
    'rgb+edge-to-depth': (['rgb', 'edge_occlusion'], 'depth_euclidean'),
}
POINTS = {'early': [1], 'middle': [4], 'late': [8], 'all': list(range(1, 9))}


def leaf(method, case):
    return osp.join(FOLDER, f'fusion-baseline_{method}_{case}_taskonomy.py')


GRID = [(m, c) for c in CASES for m in METHODS]


def test_the_grid_is_complete():
    on_disk = sorted(glob.glob(osp.join(FOLDER, '*.py')))
    assert on_disk == sorted(leaf(m, c) for m, c in GRID)  # 5 cases x 4 methods


@pytest.mark.parametrize('method, case', GRID, ids=[f'{m}-{c}' for m, c in GRID])
def test_leaf_matches_its_name_and_builds_at_every_point(method, case):
    cfg = fill_task_keys(Config.fromfile(leaf(method, case)))
    inputs, target = CASES[case]
    assert cfg.tasks == [dict(inputs=inputs, target=target)] == cfg.model.tasks
    gen = cfg.model.generator
    assert gen.type == 'FusionUnetGenerator' and gen.fusion.type == METHODS[method]
    assert gen.fusion_layers == 'early'
    assert gen.num_down == 8 and gen.base_channels == 64
    assert cfg.model.loss_config == dict(pixel_loss_weight=100.0, ensemble_loss=False)
    assert cfg.custom_hooks == []  # no exchanging layer, no sparsity penalty
    for name in ('generators', 'discriminators'):
        optimizer = cfg.optim_wrapper[name].optimizer
        assert optimizer.lr == 2e-4 and tuple(optimizer.betas) == (0.5, 0.999)
    kinds = {m.type for m in cfg.val_evaluator.metrics
             if m.fake_key == f'fake_{target}'}
    assert kinds == ({'TranslationFID', 'TranslationKID'} if target == 'rgb' else
                     {'TranslationMAE', 'TranslationMSE'})
    for point, layers in POINTS.items():
        cfg.merge_from_dict({'model.generator.fusion_layers': point})  # the documented
        with DefaultScope.overwrite_default_scope('mmagic'), torch.device('meta'):
            model = MODELS.build(cfg.model)
        assert sorted(map(int, model.generators.fusions)) == layers, point
        assert all(type(f).__name__ == METHODS[method]
                   for f in model.generators.fusions.values())


def _paper(method, case):
    text = open(leaf(method, case)).read()
    return re.findall(r'(early|middle|late|all-layer) ([\d.]+) / ([\d.]+)', text)


def test_headers_carry_the_paper_numbers():
    """Spot checks against NeurIPS'20 Table 4 and supp. Table 6 (whose extracted text
    lists one column -- early, middle, late, all-layer -- per group of four methods)."""
    assert _paper('concat', 'shade+texture-to-rgb') == [
        ('early', '87.46', '3.64'), ('middle', '95.16', '4.67'),
        ('late', '122.47', '6.56'), ('all-layer', '78.82', '3.13')]
    assert _paper('self-att', 'depth+normal-to-rgb')[3] == ('all-layer', '96.73',
                                                            '3.95')
    assert _paper('average', 'rgb+shade-to-normal') == [
        ('early', '1.42', '3.05'), ('middle', '1.26', '2.70'),
        ('late', '1.40', '2.90'), ('all-layer', '1.28', '2.83')]
    assert _paper('align', 'rgb+edge-to-depth')[3] == ('all-layer', '0.44', '0.90')
    assert _paper('self-att', 'rgb+normal-to-shade')[1] == ('middle', '1.15', '1.73')
    for method, case in GRID:
        assert len(_paper(method, case)) == 4, (method, case)
        assert 'ours' not in open(leaf(method, case)).read().lower()


# ---- tiny trainings (e2e) -----------------------------------------------------------
# every method at every fusion point (train_step on the config's own model and data
# pipeline), each on one of the five cases; two of them through the whole Runner
# (train 2 iterations + validation with the config's evaluators)
COMBOS = [(m, p, list(CASES)[(i + j) % len(CASES)])
          for i, m in enumerate(METHODS) for j, p in enumerate(POINTS)]
RUNNER = [('self-att', 'middle', 'shade+texture-to-rgb'),
          ('align', 'all', 'rgb+edge-to-depth')]
TINY_LAYERS = {'early': [1], 'middle': [4], 'late': [5], 'all': [1, 2, 3, 4, 5]}


@pytest.fixture(scope='module')
def assets(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('fusion_baselines')
    data = write_tiny_taskonomy(str(tmp / 'taskonomy'), num_train=2, num_val=2, size=40)
    inception = write_stand_in_inception(str(tmp / 'stand_in_inception.pt'))
    return dict(data=data, inception=inception)


def tiny_options(data_root, inception, work_dir, point):
    opts = {
        'model.generator.num_down': 5, 'model.generator.base_channels': 4,
        'model.generator.fusion_layers': point,
        'model.discriminator.base_channels': 4, 'model.test_in_train_mode': False,
        'train_cfg.max_iters': 2, 'train_cfg.val_interval': 2,
        'default_hooks.checkpoint.interval': 100, 'default_hooks.logger.interval': 1,
        'train_dataloader.dataset.pipeline.1.scale': (36, 36),
        'train_dataloader.dataset.pipeline.2.crop_size': (32, 32),
        'train_dataloader.batch_size': 2, 'work_dir': str(work_dir),
    }
    for loader, ann in (('train_dataloader', 'train.txt'),
                        ('val_dataloader', 'val.txt'), ('test_dataloader', 'val.txt')):
        opts.update({f'{loader}.dataset.data_root': data_root,
                     f'{loader}.dataset.ann_file': ann, f'{loader}.num_workers': 0,
                     f'{loader}.persistent_workers': False})
        if loader != 'train_dataloader':
            opts.update({f'{loader}.dataset.pipeline.1.scale': (32, 32),
                         f'{loader}.batch_size': 2})
    for i in range(2):  # FID / KID templates: the stand-in TorchScript "Inception"
        opts.update({f'rgb_metrics.{i}.inception_path': inception,
                     f'rgb_metrics.{i}.inception_style': 'StyleGAN',
                     f'rgb_metrics.{i}.protocol': 'plain'})
    return opts


def tiny_config(method, case, point, assets, work_dir):
    cfg = Config.fromfile(leaf(method, case))
    cfg.merge_from_dict(tiny_options(assets['data'], assets['inception'], work_dir,
                                     point))
    return cfg


def check_train_logs(logs, method):
    assert len(logs) == 2
    for log in logs:
        assert math.isfinite(log['loss_pixel']) and math.isfinite(log['loss_gan_g'])
        assert math.isfinite(log['loss_gan_d_fake'])
        assert ('loss_align' in log) == (method == 'align')
        assert 'loss_pixel_ens' not in log
        assert not any(k.startswith('alpha_') for k in log)
    if method == 'align':
        assert logs[-1]['loss_align'] > 0


@pytest.mark.e2e
@pytest.mark.parametrize('method, point, case', COMBOS,
                         ids=[f'{m}-{p}-{c}' for m, p, c in COMBOS])
def test_train_steps(assets, tmp_path, method, point, case):
    """Two optimisation steps of the leaf's model (tiny) on its own data pipeline."""
    cfg = fill_task_keys(tiny_config(method, case, point, assets, tmp_path))
    with DefaultScope.overwrite_default_scope('mmagic'):
        model = MODELS.build(cfg.model)
        model.init_weights()
        dataset = DATASETS.build(cfg.train_dataloader.dataset)
        data = pseudo_collate([dataset[0], dataset[1]])
    generator = model.generators
    assert sorted(map(int, generator.fusions)) == TINY_LAYERS[point]
    optimizers = {
        name: torch.optim.Adam(getattr(model, name).parameters(),
                               cfg.optim_wrapper[name].optimizer.lr,
                               betas=cfg.optim_wrapper[name].optimizer.betas)
        for name in ('generators', 'discriminators')}
    wrappers = OptimWrapperDict(
        **{name: OptimWrapper(opt) for name, opt in optimizers.items()})
    before = {k: v.detach().clone() for k, v in generator.named_parameters()}
    logs = []
    for i in range(2):
        MessageHub.get_current_instance().update_info('iter', i)
        logs.append({k: float(v) for k, v in model.train_step(data, wrappers).items()})
    check_train_logs(logs, method)
    changed = {k.split('.')[0] for k, v in generator.named_parameters()
               if not torch.equal(v, before[k])}
    assert {'stream_convs', 'up_convs'} <= changed
    assert ('fusions' in changed) == (method != 'average')  # average: no parameters
    assert ('trunk_convs' in changed) == (point in ('early', 'middle'))


@pytest.mark.e2e
@pytest.mark.parametrize('method, point, case', RUNNER,
                         ids=[f'{m}-{p}-{c}' for m, p, c in RUNNER])
def test_runner_trains_and_validates(assets, tmp_path, method, point, case):
    cfg = tiny_config(method, case, point, assets, tmp_path)
    cfg.experiment_name = f'fusion_{method}_{point}'
    runner = CENTranslationRunner.from_cfg(cfg)
    assert sorted(map(int, runner.model.generators.fusions)) == TINY_LAYERS[point]
    runner.train()
    scalars = glob.glob(osp.join(str(tmp_path), '*', 'vis_data', 'scalars.json'))
    with open(scalars[0]) as f:
        logs = [json.loads(line) for line in f if line.strip()]
    train = [log for log in logs if 'loss_pixel' in log]
    assert [log['iter'] for log in train] == [1, 2]
    check_train_logs(train, method)
    target = CASES[case][1]
    val = [log for log in logs if any(k.startswith(f'{target}/') for k in log)]
    assert val, logs[-1]
    metric = f'{target}/fid' if target == 'rgb' else f'{target}/mae'
    values = [v for k, v in val[-1].items() if k.lower() == metric]
    assert len(values) == 1 and math.isfinite(values[0]), val[-1]
