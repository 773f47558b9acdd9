"""Every config in configs/cen_pix2pix/ parses, builds its model (on the meta device),
and is consistent: datasets load every domain of the tasks, every (output, stream) is
evaluated with the papers' metric for its kind, the sparsity hook is present exactly when
the model has exchanging layers, and the papers' hyper-parameters are in place.

The leaves state only what differs: what follows from ``tasks`` (datasets' domains,
evaluators' metrics, visualizer keys) is filled by ``cen_mm.translation.task_keys``
(tested here on small hand-written tasks), and no leaf repeats a block of the others."""
import collections
import glob
import os.path as osp
import re

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

import cen_mm.translation  # noqa: F401
from cen_mm.core import iter_exchanging_norms
from cen_mm.translation.task_keys import (CENTranslationRunner, evaluated_outputs,
                                          fill_task_keys, task_domains)
from mmagic.registry import MODELS
from tests.fixtures.tools import ROOT

CONFIGS = sorted(glob.glob(osp.join(ROOT, 'configs', 'cen_pix2pix', '*.py')))


def test_all_paper_tables_have_configs():
    names = [osp.basename(c) for c in CONFIGS]
    assert sum('_fusion_' in n for n in names) == 7       # Table 4 (5) + Table 5 (2 more)
    assert sum('_single_' in n for n in names) == 4       # Table 5, one input
    assert sum('_cycle-' in n for n in names) == 15       # Table 6: 5 groups x 3 variants
    assert sum('_multitask-cen-dec_' in n for n in names) == 8  # Tables 7 (5) and 8 (3)
    assert sum('_mm-multitask-' in n for n in names) == 12  # Table 9: 4 x 3 variants
    assert sum('_demo_' in n for n in names) == 1


@pytest.mark.e2e
@pytest.mark.parametrize('path', CONFIGS, ids=[osp.basename(c)[12:-3] for c in CONFIGS])
def test_config_consistency(path):
    raw = Config.fromfile(path)
    assert raw.runner_type == 'CENTranslationRunner'  # fills what follows from tasks
    assert raw.model.tasks == raw.tasks
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        assert raw[loader].dataset.get('domains') is None, loader
    assert raw.val_evaluator.metrics is None and raw.test_evaluator.metrics is None
    assert raw.visualizer.img_keys == []
    cfg = fill_task_keys(raw)
    assert cfg.default_scope == 'mmagic'
    assert cfg.custom_imports.imports == ['cen_mm', 'cen_mm.translation']
    tasks = cfg.model.tasks
    domains = {d for t in tasks for d in (*t['inputs'], t['target'])}
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        assert set(cfg[loader].dataset.domains) == domains, loader

    expected = {}
    for t in tasks:
        target = t['target']
        keys = [f'fake_{target}']
        if len(t['inputs']) > 1:
            keys += [f'fake_{target}_from_{d}' for d in t['inputs']]
        kinds = ({'TranslationFID', 'TranslationKID'} if target == 'rgb' else
                 {'TranslationMAE', 'TranslationMSE'})
        expected.update({k: (f'img_{target}', kinds) for k in keys})
    for evaluator in ('val_evaluator', 'test_evaluator'):
        seen = {}
        for metric in cfg[evaluator].metrics:
            assert metric.real_key == expected[metric.fake_key][0]
            seen.setdefault(metric.fake_key, set()).add(metric.type)
            if metric.type == 'TranslationMSE':
                assert metric.root_of_mean  # the papers' "MSE" column
        assert seen == {k: v[1] for k, v in expected.items()}
    assert set(cfg.visualizer.img_keys) == {f'img_{d}' for d in domains} | set(expected)

    with DefaultScope.overwrite_default_scope('mmagic'), torch.device('meta'):
        model = MODELS.build(cfg.model)
    exchanging = list(iter_exchanging_norms(model))
    hooks = {h.type: h for h in cfg.custom_hooks}
    assert ('CENSparsityHook' in hooks) == bool(exchanging)
    assert all(norm.threshold == 1e-2 for _, norm in exchanging)

    if '_demo_' in path:
        return
    # TPAMI'23 §4: U-Net-256, λ = 1e-3, θ = 1e-2, Adam 2e-4 (0.5, 0.999), L1 x100
    assert model.generators.num_down == 8 and model.generators.channels[0] == 64
    if exchanging:
        assert hooks['CENSparsityHook'].lambda_ == 1e-3
    for name in ('generators', 'discriminators'):
        optimizer = cfg.optim_wrapper[name].optimizer
        assert optimizer.lr == 2e-4 and tuple(optimizer.betas) == (0.5, 0.999)
    assert model.pixel_loss_weight == 100
    assert cfg.train_dataloader.dataset.pipeline[1].scale == (286, 286)
    assert cfg.train_dataloader.dataset.pipeline[2].crop_size == (256, 256)


# ---- what follows from `tasks` (cen_mm/translation/task_keys.py) ------------------
TASKS = [dict(inputs=['rgb', 'depth_euclidean'], target='normal'),
         dict(inputs=['normal'], target='rgb')]
RGB_METRICS = [dict(type='TranslationFID'), dict(type='TranslationKID')]
PIXEL_METRICS = [dict(type='TranslationMAE'), dict(type='TranslationMSE')]


def _bare_config(**extra):
    return Config(dict(dict(
        tasks=TASKS, rgb_metrics=RGB_METRICS, pixel_metrics=PIXEL_METRICS,
        train_dataloader=dict(dataset=dict(type='TaskonomyDataset', domains=None)),
        val_dataloader=dict(dataset=dict(type='TaskonomyDataset')),
        test_dataloader=dict(dataset=dict(type='TaskonomyDataset')),
        val_evaluator=dict(type='Evaluator', metrics=None),
        test_evaluator=dict(type='Evaluator', metrics=None),
        visualizer=dict(type='ConcatImageVisualizer', img_keys=[])), **extra))


def test_task_domains_and_outputs():
    assert task_domains(TASKS) == ['rgb', 'depth_euclidean', 'normal']
    # ensemble of every task; streams only with M >= 2 inputs
    assert evaluated_outputs(TASKS) == [
        ('normal', 'fake_normal'), ('normal', 'fake_normal_from_rgb'),
        ('normal', 'fake_normal_from_depth_euclidean'), ('rgb', 'fake_rgb')]


def test_fill_task_keys_values():
    cfg = fill_task_keys(_bare_config())
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        assert cfg[loader].dataset.domains == ['rgb', 'depth_euclidean', 'normal']
    expected = [(t, f, o) for o in ('normal', 'normal_from_rgb',
                                    'normal_from_depth_euclidean')
                for t, f in (('TranslationMAE', 'normal'), ('TranslationMSE', 'normal'))
                ] + [('TranslationFID', 'rgb', 'rgb'), ('TranslationKID', 'rgb', 'rgb')]
    for name in ('val_evaluator', 'test_evaluator'):
        got = [(m.type, m.real_key[len('img_'):], m.prefix) for m in cfg[name].metrics]
        assert got == expected
        assert [m.fake_key for m in cfg[name].metrics] == [
            f'fake_{prefix}' for _, _, prefix in expected]
    assert cfg.visualizer.img_keys == [
        'img_rgb', 'img_depth_euclidean', 'img_normal', 'fake_normal',
        'fake_normal_from_rgb', 'fake_normal_from_depth_euclidean', 'fake_rgb']
    # the templates themselves are not modified
    assert RGB_METRICS == [dict(type='TranslationFID'), dict(type='TranslationKID')]


def test_fill_task_keys_keeps_what_a_config_sets():
    cfg = _bare_config()
    cfg.val_dataloader.dataset.domains = ['rgb', 'normal', 'depth_euclidean']
    cfg.val_evaluator.metrics = [dict(type='TranslationMAE', fake_key='fake_normal',
                                      real_key='img_normal')]
    cfg.visualizer.img_keys = ['img_rgb']
    fill_task_keys(cfg)
    assert cfg.val_dataloader.dataset.domains == ['rgb', 'normal', 'depth_euclidean']
    assert len(cfg.val_evaluator.metrics) == 1
    assert cfg.visualizer.img_keys == ['img_rgb']
    assert len(cfg.test_evaluator.metrics) == 8  # unset: filled (4 outputs x 2)
    # a config without tasks (e.g. stock mmagic) is left alone
    plain = Config(dict(val_evaluator=dict(type='Evaluator', metrics=None)))
    assert fill_task_keys(plain).val_evaluator.metrics is None


@pytest.mark.parametrize('tasks, bad', [
    ([dict(inputs='rgb', target='normal')], 'tasks[0]'),
    ([dict(inputs=['rgb'])], 'tasks[0]'),
    ([], '`tasks` must be a non-empty list'),
    (dict(inputs=['rgb'], target='normal'), '`tasks` must be a non-empty list'),
])
def test_bad_tasks_are_named(tmp_path, tasks, bad):
    path = tmp_path / 'my_translation.py'
    path.write_text(f'tasks = {tasks!r}\n')
    with pytest.raises(ValueError) as err:
        fill_task_keys(Config.fromfile(str(path)))
    assert str(path) in str(err.value) and bad in str(err.value)
    assert "expected `tasks = [dict(inputs=" in str(err.value)


def test_missing_metric_templates_are_named():
    cfg = _bare_config(pixel_metrics=None)
    with pytest.raises(KeyError, match=r"\['pixel_metrics'\] are missing"):
        fill_task_keys(cfg)


def test_the_runner_fills_before_building(tmp_path):
    """CENTranslationRunner (the configs' runner_type) sees the complete config."""
    demo = [c for c in CONFIGS if '_demo_' in c][0]
    cfg = Config.fromfile(demo)
    cfg.work_dir = str(tmp_path)
    runner = CENTranslationRunner.from_cfg(cfg)
    assert cfg.val_evaluator.metrics is None  # the caller's config is not modified
    keys = ['img_rgb', 'img_edge_occlusion', 'img_depth_zbuffer', 'fake_depth_zbuffer',
            'fake_depth_zbuffer_from_rgb', 'fake_depth_zbuffer_from_edge_occlusion']
    assert runner.visualizer.img_keys == keys
    assert runner.cfg.train_dataloader.dataset.domains == [k[4:] for k in keys[:3]]
    assert [m.prefix for m in runner.cfg.val_evaluator.metrics][::2] == [
        k[len('fake_'):] for k in keys[3:]]


# ---- leaves state only what differs ------------------------------------------------
def shared_lines(paths, share=0.4):
    """Per leaf, its code lines (comments and blanks dropped) that also appear in at
    least ``share`` of all leaves."""
    code = {p: {line.strip() for line in open(p)
                if line.strip() and not line.strip().startswith('#')} for p in paths}
    counts = collections.Counter(line for lines in code.values() for line in lines)
    common = {line for line, n in counts.items() if n >= share * len(paths)}
    return {p: sorted(lines & common) for p, lines in code.items()}


def test_leaves_do_not_repeat_each_other():
    """Before the shared blocks moved to _base_/ and task_keys, every leaf repeated
    about 21 lines (dataloaders, evaluated outputs, evaluators, visualizer)."""
    shared = shared_lines(CONFIGS)
    for path, lines in shared.items():
        # at most the skeleton: `_base_ = [...]`, `tasks = [`, `]`, `model = dict(`,
        # `tasks=tasks,`
        assert len(lines) <= 5, (osp.basename(path), lines)
    for path in CONFIGS:
        text = open(path).read()
        repeated = r'^(val|test)_evaluator|^visualizer|^eval_outputs|^domains'
        assert not re.search(repeated, text, re.M), path
        if '_demo_' not in path:  # the demo has its own (procedural) datasets
            assert not re.search(r'^\w+_dataloader', text, re.M), path
