"""tools/train.py and tools/test.py on the paper configs (fusion, cycle, multitask,
multimodal multitask) shrunk by --cfg-options, on a tiny Taskonomy-format dataset, and
on the CPU demo config.

Checks: checkpoints hold exactly the model's parameters, losses of every iteration are
logged and finite, validation reports every (output, stream) metric, the exchange
statistics are written, and the metrics tools/test.py reports equal a direct numpy
computation from the checkpoint's predictions.
"""
import glob
import json
import os.path as osp
import sys

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate

from tests.fixtures.threads import single_thread  # noqa: F401 (autouse)
from tests.fixtures.tools import ROOT, run, train
from tests.fixtures.translation_data import (write_stand_in_inception,
                                             write_tiny_taskonomy)

CONFIGS = {
    'fusion': 'cen-pix2pix_fusion_shade+texture-to-rgb_taskonomy.py',
    'cycle': 'cen-pix2pix_cycle-random_rgb+shade+texture_taskonomy.py',
    'multitask': 'cen-pix2pix_multitask-cen-dec_rgb-to-normal+curve_taskonomy.py',
    'mm_multitask':
    'cen-pix2pix_mm-multitask-cen-enc+dec_rgb+edge-to-depth+normal_taskonomy.py',
}
DEMO = osp.join(ROOT, 'configs', 'cen_pix2pix',
                'cen-pix2pix_demo_synth_rgb+edge-to-depth_cpu.py')
NUM_VAL = 4


def config_path(kind):
    return osp.join(ROOT, 'configs', 'cen_pix2pix', CONFIGS[kind])


@pytest.fixture(scope='module')
def assets(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('translation')
    data = write_tiny_taskonomy(str(tmp / 'taskonomy'), num_train=2, num_val=NUM_VAL,
                                size=40)
    inception = write_stand_in_inception(str(tmp / 'stand_in_inception.pt'))
    return dict(data=data, inception=inception, tmp=tmp)


def tiny_options(config, data_root, inception):
    """--cfg-options turning a paper config into a seconds-long CPU run."""
    cfg = Config.fromfile(config)
    opts = [
        'model.generator.num_down=5', 'model.generator.base_channels=4',
        'model.discriminator.base_channels=4', 'model.test_in_train_mode=False',
        'train_cfg.max_iters=2', 'train_cfg.val_interval=2',
        'default_hooks.checkpoint.interval=2', 'default_hooks.logger.interval=1',
        'train_dataloader.dataset.pipeline.1.scale=(36,36)',
        'train_dataloader.dataset.pipeline.2.crop_size=(32,32)',
        'train_dataloader.batch_size=2'
    ]
    for loader, ann in (('train_dataloader', 'train.txt'), ('val_dataloader', 'val.txt'),
                        ('test_dataloader', 'val.txt')):
        opts += [f'{loader}.dataset.data_root={data_root}',
                 f'{loader}.dataset.ann_file={ann}', f'{loader}.num_workers=0',
                 f'{loader}.persistent_workers=False']
        if loader != 'train_dataloader':
            opts += [f'{loader}.dataset.pipeline.1.scale=(32,32)',
                     f'{loader}.batch_size=3']
    for i, hook in enumerate(cfg.custom_hooks):
        if hook.type == 'ExchangeStatsHook':
            opts.append(f'custom_hooks.{i}.interval=1')
    # the metric templates the evaluators are built from (cen_mm.translation.task_keys)
    for i, metric in enumerate(cfg.rgb_metrics):
        opts += [f'rgb_metrics.{i}.inception_path={inception}',
                 f'rgb_metrics.{i}.inception_style=StyleGAN']
    return opts


def scalars(work_dir):
    files = glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))
    assert files, f'no scalars.json under {work_dir}'
    with open(sorted(files)[-1]) as f:
        return [json.loads(line) for line in f if line.strip()]


def expected_metric_names(cfg):
    names = []
    for metric in cfg.val_evaluator.metrics:
        if metric.type == 'TranslationFID':
            names.append(f'{metric.prefix}/fid')
        elif metric.type == 'TranslationKID':
            names += [f'{metric.prefix}/kid', f'{metric.prefix}/kid_std']
        elif metric.type == 'TranslationMAE':
            names.append(f'{metric.prefix}/MAE')
        else:
            names.append(f'{metric.prefix}/RMSE')
    return names


def build_model(cfg, checkpoint=None):
    from mmengine.registry import init_default_scope
    import cen_mm.translation  # noqa: F401
    from mmagic.registry import MODELS
    init_default_scope('mmagic')
    model = MODELS.build(cfg.model)
    if checkpoint is not None:
        state = torch.load(checkpoint, map_location='cpu', weights_only=False)
        model.load_state_dict(state['state_dict'])
    return model.eval()


@pytest.fixture(scope='module', params=list(CONFIGS))
def trained(request, assets):
    kind = request.param
    work = assets['tmp'] / f'work_{kind}'
    opts = tiny_options(config_path(kind), assets['data'], assets['inception'])
    train(config_path(kind), work, '--cfg-options', *opts)
    return dict(kind=kind, work=str(work), opts=opts)


def _merged_cfg(trained):
    """The config as the tools see it (same --cfg-options parsing)."""
    import argparse

    from mmengine.config import DictAction
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args(['--cfg-options', *trained['opts']])
    cfg = Config.fromfile(config_path(trained['kind']))
    cfg.merge_from_dict(args.cfg_options)
    from cen_mm.translation.task_keys import fill_task_keys
    return fill_task_keys(cfg)  # as CENTranslationRunner does


@pytest.mark.e2e
def test_train_tool(trained):
    work, cfg = trained['work'], _merged_cfg(trained)
    ckpt = torch.load(osp.join(work, 'iter_2.pth'), weights_only=False)
    assert ckpt['meta']['iter'] == 2
    assert set(ckpt['optimizer']) == {'generators', 'discriminators'}
    assert set(ckpt['state_dict']) == set(build_model(cfg).state_dict())
    records = scalars(work)
    losses = [r for r in records if 'loss_pixel' in r]
    assert [r['iter'] for r in losses] == [1, 2]
    assert all(np.isfinite(r[k]) for r in losses for k in r if k.startswith('loss'))
    val = [r for r in records if any(k.endswith(('/fid', '/MAE')) for k in r)]
    assert len(val) == 1
    names = expected_metric_names(cfg)
    assert set(names) <= set(val[0]) and all(np.isfinite(val[0][n]) for n in names)
    # every task's ensemble and (M >= 2) every stream is evaluated
    for task in cfg.model.tasks:
        assert any(n.startswith(f"{task['target']}/") for n in names)
        if len(task['inputs']) > 1:
            for d in task['inputs']:
                assert any(n.startswith(f"{task['target']}_from_{d}/") for n in names)
    stats = open(osp.join(work, 'exchange_stats.jsonl')).read().splitlines()
    assert [json.loads(line)['iter'] for line in stats][-1] == 2


def _direct_errors(cfg, checkpoint):
    """MAE / RMSE (x100, [-1, 1]) of every non-RGB output, straight from test_step."""
    from mmagic.registry import DATASETS
    model = build_model(cfg, checkpoint)
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    errors = {}
    with torch.no_grad():
        samples = model.test_step(
            pseudo_collate([dataset[i] for i in range(len(dataset))]))
    for metric in cfg.test_evaluator.metrics:
        if metric.type not in ('TranslationMAE', 'TranslationMSE'):
            continue
        err = np.stack([(s.get(metric.fake_key).numpy().astype(np.float64) -
                         s.get(metric.real_key).numpy()) / 127.5 for s in samples])
        if metric.type == 'TranslationMAE':
            errors[f'{metric.prefix}/MAE'] = 100 * np.abs(err).mean()
        else:
            errors[f'{metric.prefix}/RMSE'] = 100 * np.sqrt(
                (err**2).reshape(len(samples), -1).mean(1).mean())
    return errors


@pytest.mark.e2e
def test_test_tool(trained, tmp_path):
    cfg = _merged_cfg(trained)
    ckpt = osp.join(trained['work'], 'iter_2.pth')
    work = tmp_path / 'test'
    vis_dir = tmp_path / 'vis'  # absolute: a relative --show-dir lands in the cwd
    pkl = tmp_path / 'results.pkl'
    run([sys.executable, 'tools/test.py', config_path(trained['kind']), ckpt,
         '--work-dir', str(work), '--show-dir', str(vis_dir), '--out', str(pkl),
         '--cfg-options', *trained['opts']])
    reports = glob.glob(str(work / '*' / '*.json'))
    assert reports, 'tools/test.py wrote no metrics'
    metrics = json.load(open(sorted(reports)[-1]))
    names = expected_metric_names(cfg)
    assert set(names) <= set(metrics)
    for name, value in _direct_errors(cfg, ckpt).items():
        assert metrics[name] == pytest.approx(value, rel=1e-4, abs=1e-4), name
    # one concatenated visualisation per sample: inputs, target(s), predictions
    vis = sorted(glob.glob(str(vis_dir / '**' / '*.png'), recursive=True))
    assert len(vis) == NUM_VAL
    from PIL import Image
    width = Image.open(vis[0]).size[0]
    assert width == 32 * len(cfg.visualizer.img_keys)
    # --out x.pkl: one dumped sample per test image, with the ensemble prediction
    import pickle
    dumped = pickle.load(open(pkl, 'rb'))
    assert len(dumped) == NUM_VAL
    fakes = [k for k in dumped[0] if k.startswith('fake_')]
    assert fakes and tuple(dumped[0][fakes[0]].shape[-2:]) == (32, 32)


@pytest.mark.e2e
def test_demo_config_trains_and_reports_metrics(tmp_path):
    opts = ['train_cfg.max_iters=3', 'train_cfg.val_interval=3',
            'default_hooks.checkpoint.interval=3', 'default_hooks.logger.interval=1',
            'custom_hooks.0.log_interval=1', 'train_dataloader.dataset.num_samples=4',
            'val_dataloader.dataset.num_samples=4', 'train_dataloader.batch_size=2']
    train(DEMO, tmp_path, '--cfg-options', *opts)
    records = scalars(str(tmp_path))
    val = [r for r in records if 'depth_zbuffer/MAE' in r]
    assert len(val) == 1
    for stream in ('depth_zbuffer', 'depth_zbuffer_from_rgb',
                   'depth_zbuffer_from_edge_occlusion'):
        for name in ('MAE', 'RMSE'):
            assert np.isfinite(val[0][f'{stream}/{name}'])
    # λ·Σ|γ̂| over the encoder's exchanging INs: γ starts at 1 and each stream owns half
    # of the C channels of every level 1..4 of the 6-level, 16-channel U-Net, so
    # λ·Σ_levels 2·(C/2) = 1e-2·(32 + 64 + 128 + 128) at the start of training
    penalty = [r['sparsity_penalty'] for r in records if 'sparsity_penalty' in r]
    assert len(penalty) == 3
    assert penalty[0] == pytest.approx(1e-2 * (32 + 64 + 128 + 128), rel=0.02)
