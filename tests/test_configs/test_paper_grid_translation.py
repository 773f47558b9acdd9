"""The TPAMI'23 translation rows added by issue #18 (configs/cen_pix2pix/ subfolders):

* ``network_sharing/``: Table 10 (and Table 11 columns 1-2) -- unshared convs + unshared
  INs, shared convs + shared INs, shared convs + unshared INs, for 2/3/4 inputs -> RGB,
  plus the CEN column for shade + texture + depth;
* ``subparts/``: Table 13 -- CEN without dividing the channels into M sub-parts;
* ``cycle_independent/``: Table 6 -- independent CEN, one fusion network per flow;
* ``indiv/``: the Indiv baselines of Tables 7 (enc x2 and enc x1), 8 and 9.

Every leaf passes the consistency checks of the paper configs, has the structure its
name says (checked on the built model), matches the CEN config it is a baseline of
(same tasks), carries the paper's numbers in its header, and the generator sizes match
the papers' "Total params." rows. One representative per group trains 2 iterations at
tiny sizes in-process (e2e).
"""
import functools
import glob
import json
import math
import os.path as osp
import re

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

import cen_mm.translation  # noqa: F401
from cen_mm.core import iter_exchanging_norms
from cen_mm.translation.task_keys import CENTranslationRunner, fill_task_keys
from mmagic.registry import MODELS
from tests.fixtures.tools import ROOT
from tests.fixtures.translation_data import (write_stand_in_inception,
                                             write_tiny_taskonomy)
from tests.test_configs.test_translation_configs import \
    test_config_consistency as paper_config_consistency

PIX2PIX = osp.join(ROOT, 'configs', 'cen_pix2pix')
GROUPS = {'network_sharing': 10, 'subparts': 3, 'cycle_independent': 13, 'indiv': 16}
LEAVES = sorted(p for g in GROUPS for p in glob.glob(osp.join(PIX2PIX, g, '*.py')))


def _id(path):
    return osp.relpath(path, PIX2PIX)[:-len('_taskonomy.py')]


def leaf(group, name):
    return osp.join(PIX2PIX, group, f'cen-pix2pix_{name}_taskonomy.py')


@functools.lru_cache(maxsize=None)
def build(path):
    """(filled config, model on the meta device); cached: the tests only read them."""
    cfg = fill_task_keys(Config.fromfile(path))
    with DefaultScope.overwrite_default_scope('mmagic'), torch.device('meta'):
        model = MODELS.build(cfg.model)
    return cfg, model


def gen_params_m(model):
    return sum(p.numel() for p in model.generators.parameters()) / 1e6


def header(path):
    with open(path) as f:
        return ' '.join(line[2:].strip() for line in f if line.startswith('#'))


def test_every_group_is_complete():
    for group, count in GROUPS.items():
        assert len(glob.glob(osp.join(PIX2PIX, group, '*.py'))) == count, group


@pytest.mark.parametrize('path', LEAVES, ids=[_id(p) for p in LEAVES])
def test_leaf_is_a_consistent_paper_config(path):
    paper_config_consistency(path)  # same checks as every top-level paper config
    text = header(path)
    assert re.search(r"TPAMI'23 Table (6|7|8|9|10|13)\b", text), path
    assert 'Paper (' in text and 'ours' not in text.lower()


NO_EXCHANGE_TOP_LEVEL = sorted(
    p for p in glob.glob(osp.join(PIX2PIX, '*.py'))
    if '_single_' in p or '_multitask-indiv_' in p)


@pytest.mark.parametrize('path', NO_EXCHANGE_TOP_LEVEL + LEAVES,
                         ids=[_id(p) for p in NO_EXCHANGE_TOP_LEVEL + LEAVES])
def test_cen_hooks_only_with_exchanging_layers(path):
    """CENSparsityHook and ExchangeStatsHook both raise at the start of training on a
    model without exchanging layers (the Table 5 single-input and Table 7 Indiv configs
    kept ExchangeStatsHook and could not train)."""
    cfg, model = build(path)
    hooks = {h.type for h in cfg.custom_hooks}
    if list(iter_exchanging_norms(model)):
        assert hooks == {'CENSparsityHook', 'ExchangeStatsHook'}
    else:
        assert not hooks & {'CENSparsityHook', 'ExchangeStatsHook'}


# ---- Table 10 / 11: network sharing ------------------------------------------------
SHARING = [(col, case) for col in ('convs-unshared_ins-unshared',
                                   'convs-shared_ins-shared', 'convs-shared_ins-unshared')
           for case in ('shade+texture', 'shade+texture+depth',
                        'depth+normal+texture+shade')]
CEN_OF = {'shade+texture': ('', 'fusion_shade+texture-to-rgb'),
          'shade+texture+depth': ('network_sharing', 'fusion_shade+texture+depth-to-rgb'),
          'depth+normal+texture+shade': ('', 'fusion_depth+normal+texture+shade-to-rgb')}


@pytest.mark.parametrize('col,case', SHARING, ids=[f'{c}-{k}' for c, k in SHARING])
def test_network_sharing_structure(col, case):
    cfg, model = build(leaf('network_sharing', f'fusion-{col}_{case}-to-rgb'))
    cen_cfg, cen = build(leaf(*CEN_OF[case]))
    assert cfg.tasks == cen_cfg.tasks  # the same fusion case as the CEN column
    gen, m = model.generators, len(cfg.tasks[0]['inputs'])
    assert m == case.count('+') + 1
    assert not list(iter_exchanging_norms(model))
    assert cfg.custom_hooks == []  # both CEN hooks refuse a model without exchange
    assert gen.alpha.shape == (1, m)  # the ensemble row of the table
    norms = {n.private for n in gen.down_norms}
    if col == 'convs-unshared_ins-unshared':
        assert len(gen.down_convs) == len(gen.up_convs) == m
        assert norms == {'stream'} and {n.private for n in gen.up_norms} == {'stream'}
        # M whole U-Nets: M times the convs of the CEN network
        convs, cen_convs = (sum(p.numel() for n, p in g.named_parameters()
                                if 'convs.' in n) for g in (gen, cen.generators))
        assert convs == m * cen_convs
    else:
        assert gen.encoder_convs == 'shared' and len(gen.up_convs) == 1
        assert norms == ({'shared'} if col == 'convs-shared_ins-shared' else {'stream'})
    # the CEN column: the same network with exchange
    assert {n.private for n in cen.generators.down_norms} == {'stream'}
    assert len(list(iter_exchanging_norms(cen))) == 6


def test_table10_headers_carry_the_paper_numbers():
    four = header(leaf('network_sharing', 'fusion-convs-unshared_ins-unshared_'
                                          'depth+normal+texture+shade-to-rgb'))
    assert 'Shade 100.83 / 5.06' in four and 'Normal 108.65 / 5.45' in four
    assert 'ensemble 89.52 / 3.80' in four and 'Table 11 column 1' in four
    two = header(leaf('network_sharing', 'fusion-convs-shared_ins-shared_'
                                         'shade+texture-to-rgb'))
    assert 'Shade 112.40 / 5.58' in two and 'ensemble 96.31 / 4.36' in two
    cen = header(leaf('network_sharing', 'fusion_shade+texture+depth-to-rgb'))
    assert 'ensemble 58.35 / 1.42' in cen


# ---- Table 13: without sub-parts ---------------------------------------------------
SUBPART_CASES = {'depth+normal': '87.63 / 3.49', 'depth+normal+texture': '65.12 / 1.90',
                 'depth+normal+texture+shade': '64.87 / 1.85'}


@pytest.mark.parametrize('case', sorted(SUBPART_CASES))
def test_no_subparts_structure(case):
    path = leaf('subparts', f'fusion-no-subparts_{case}-to-rgb')
    cfg, model = build(path)
    default_cfg, default = build(leaf('', f'fusion_{case}-to-rgb'))
    assert cfg.tasks == default_cfg.tasks
    modes = {norm.exchange_mode for _, norm in iter_exchanging_norms(model)}
    assert modes == {'all'}
    assert {norm.exchange_mode for _, norm in iter_exchanging_norms(default)} == \
        {'subpart'}
    (hook, ) = [h for h in cfg.custom_hooks if h.type == 'CENSparsityHook']
    assert hook.penalty_channels == 'all' and hook.lambda_ == 1e-3
    assert SUBPART_CASES[case] in header(path)


# ---- Table 6: independent CEN ------------------------------------------------------
CYCLE_GROUPS = ['rgb+shade+texture', 'rgb+depth+semseg', 'rgb+depth+normal',
                'rgb+depth+curve', 'depth+normal+shade']
EXISTING_FLOWS = [leaf('', 'fusion_shade+texture-to-rgb'),
                  leaf('', 'fusion_depth+normal-to-rgb')]


def _flow(task):
    return frozenset(task['inputs']), task['target']


@pytest.mark.parametrize('group', CYCLE_GROUPS)
def test_independent_cen_covers_every_flow_of_the_cycle(group):
    """The three flows of a CEN-cycle config, each a plain fusion CEN (IN x2 each, six
    in all); three generators: 163.3 M in TPAMI'23 Table 6."""
    cycle = Config.fromfile(leaf('', f'cycle-dec3_{group}'))
    wanted = {_flow(t) for t in cycle.tasks}
    paths = glob.glob(osp.join(PIX2PIX, 'cycle_independent',
                               f'cen-pix2pix_cycle-independent_{group}_*.py'))
    flows, total = {}, 0.0
    for path in paths + EXISTING_FLOWS:
        cfg, model = build(path)
        (task, ) = cfg.tasks
        if _flow(task) not in wanted:
            continue
        flows[_flow(task)] = path
        assert cfg.model.get('task_sampling', 'all') == 'all'
        assert len(list(iter_exchanging_norms(model))) == 6  # CEN-enc, M = 2
        total += gen_params_m(model)
    assert set(flows) == wanted
    assert total == pytest.approx(163.3, abs=0.2), total


# ---- Indiv baselines of Tables 7, 8, 9 ---------------------------------------------
INDIV = {  # name -> (CEN counterpart, encoder conv sets, paper generator size in M)
    **{f'multitask-indiv-enc2_{c}': (f'multitask-cen-dec_{c}', 2, 108.7) for c in (
        'rgb-to-semseg+depth', 'rgb-to-normal+curve', 'rgb-to-shade+texture',
        'texture-to-rgb+depth', 'normal-to-depth+shade')},
    **{f'multitask-indiv-enc1_{c}': (f'multitask-cen-dec_{c}', 1, 89.3) for c in (
        'rgb-to-normal+curve', 'rgb-to-shade+texture', 'texture-to-rgb+depth',
        'normal-to-depth+shade')},
    **{f'multitask-indiv-enc3_{c}': (f'multitask-cen-dec_{c}', 3, 163.1) for c in (
        'rgb-to-semseg+depth+normal', 'texture-to-rgb+depth+edge',
        'normal-to-rgb+depth+shade')},
    **{f'mm-multitask-indiv_{c}': (f'mm-multitask-cen-dec_{c}', 2, 108.7) for c in (
        'rgb+depth-to-semseg+curve', 'rgb+depth-to-normal+shade',
        'rgb+edge-to-depth+normal', 'texture+shade-to-rgb+depth')},
}


@pytest.mark.parametrize('name', sorted(INDIV))
def test_indiv_structure_and_size(name):
    counterpart, enc_sets, paper = INDIV[name]
    path = leaf('indiv', name)
    cfg, model = build(path)
    cen_cfg, _ = build(leaf('', counterpart))
    assert cfg.tasks == cen_cfg.tasks
    gen = model.generators
    assert not list(iter_exchanging_norms(model))
    assert cfg.custom_hooks == []  # both CEN hooks refuse a model without exchange
    assert len(gen.up_convs) == len(cfg.tasks)  # dec x T
    assert (1 if gen.encoder_convs == 'shared' else len(gen.down_convs)) == enc_sets
    # IN x (T*M) in the encoder: every (task, input) stream its own INs
    assert sum(len(g.norms) for g in gen.down_norms[0].groups) == \
        len(cfg.tasks) * len(cfg.tasks[0]['inputs'])
    # ours are 0.0-0.15 M above the printed sizes (same for the CEN configs)
    assert gen_params_m(model) == pytest.approx(paper, abs=0.2)
    assert f'generator {paper} M' in header(path)


def test_indiv_headers_carry_the_paper_numbers():
    assert 'SemSeg 26.71 / 40.15, Depth 5.35 / 9.13' in header(
        leaf('indiv', 'multitask-indiv-enc2_rgb-to-semseg+depth'))
    assert 'RGB 96.81 / 4.57, Depth 4.05 / 7.94' in header(
        leaf('indiv', 'multitask-indiv-enc1_texture-to-rgb+depth'))
    assert 'Edge 0.97 / 1.73' in header(
        leaf('indiv', 'multitask-indiv-enc3_texture-to-rgb+depth+edge'))
    assert 'RGB 97.31 / 4.76, Depth 2.66 / 4.20' in header(
        leaf('indiv', 'mm-multitask-indiv_texture+shade-to-rgb+depth'))


# ---- tiny trainings (e2e): one representative per group ---------------------------
TRAINED = {
    'sharing-unshared': ('network_sharing',
                         'fusion-convs-unshared_ins-unshared_shade+texture-to-rgb'),
    'no-subparts': ('subparts', 'fusion-no-subparts_depth+normal-to-rgb'),
    'independent': ('cycle_independent',
                    'cycle-independent_rgb+depth+semseg_rgb+depth-to-semseg'),
    'indiv-enc2': ('indiv', 'multitask-indiv-enc2_rgb-to-normal+curve'),
    'mm-indiv': ('indiv', 'mm-multitask-indiv_texture+shade-to-rgb+depth'),
}
TINY_ENCODER_CHANNELS = [8, 16, 32]  # normalised levels 1-3 of num_down=5, base 4


@pytest.fixture(scope='module')
def assets(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('paper_grid_translation')
    data = write_tiny_taskonomy(str(tmp / 'taskonomy'), num_train=2, num_val=2, size=40)
    inception = write_stand_in_inception(str(tmp / 'stand_in_inception.pt'))
    return dict(data=data, inception=inception)


def tiny_options(cfg, data_root, inception, work_dir):
    opts = {
        'model.generator.num_down': 5, 'model.generator.base_channels': 4,
        'model.discriminator.base_channels': 4, 'model.test_in_train_mode': False,
        'train_cfg.max_iters': 2, 'train_cfg.val_interval': 2,
        'default_hooks.checkpoint.interval': 2, 'default_hooks.logger.interval': 1,
        'train_dataloader.dataset.pipeline.1.scale': (36, 36),
        'train_dataloader.dataset.pipeline.2.crop_size': (32, 32),
        'train_dataloader.batch_size': 2, 'work_dir': str(work_dir),
    }
    for loader, ann in (('train_dataloader', 'train.txt'), ('val_dataloader', 'val.txt'),
                        ('test_dataloader', 'val.txt')):
        opts.update({f'{loader}.dataset.data_root': data_root,
                     f'{loader}.dataset.ann_file': ann, f'{loader}.num_workers': 0,
                     f'{loader}.persistent_workers': False})
        if loader != 'train_dataloader':
            opts.update({f'{loader}.dataset.pipeline.1.scale': (32, 32),
                         f'{loader}.batch_size': 2})
    for i in range(2):  # FID / KID templates: the stand-in TorchScript "Inception"
        opts.update({f'rgb_metrics.{i}.inception_path': inception,
                     f'rgb_metrics.{i}.inception_style': 'StyleGAN'})
    for i, hook in enumerate(cfg.custom_hooks):
        if hook.type == 'CENSparsityHook':
            opts[f'custom_hooks.{i}.log_interval'] = 1
    return opts


@pytest.mark.e2e
@pytest.mark.parametrize('kind', sorted(TRAINED))
def test_representative_trains_two_iterations(assets, tmp_path, kind):
    cfg = Config.fromfile(leaf(*TRAINED[kind]))
    cfg.merge_from_dict(tiny_options(cfg, assets['data'], assets['inception'], tmp_path))
    cfg.experiment_name = f'paper_grid_{kind}'
    runner = CENTranslationRunner.from_cfg(cfg)
    gen = runner.model.generators
    before = {k: v.detach().clone() for k, v in gen.named_parameters()}
    runner.train()
    changed = {k for k, v in gen.named_parameters() if not torch.equal(v, before[k])}
    num_tasks, num_inputs = gen.num_tasks, gen.num_inputs
    # every private conv set (encoder and decoder) is trained
    if gen.encoder_convs != 'shared':
        assert {k.split('.')[1] for k in changed if k.startswith('down_convs.')} == \
            {str(s) for s in range(len(gen.down_convs))}
    assert {k.split('.')[1] for k in changed if k.startswith('up_convs.')} == \
        {str(s) for s in range(len(gen.up_convs))}

    with open(glob.glob(osp.join(str(tmp_path), '*', 'vis_data', 'scalars.json'))[0]) as f:
        logs = [json.loads(line) for line in f if line.strip()]
    train = [log for log in logs if 'loss_pixel' in log]
    assert [log['iter'] for log in train] == [1, 2]
    for log in train:
        assert math.isfinite(log['loss_pixel']) and math.isfinite(log['loss_gan_g'])
    exchanging = list(iter_exchanging_norms(gen))
    if kind in ('no-subparts', 'independent'):
        # λ·Σ|γ| with γ = 1 at init (moved by <= 2 Adam steps of 2e-4): over every
        # stream's channels without sub-parts, over its own 1/M sub-part with them
        share = 1.0 if kind == 'no-subparts' else 1.0 / num_inputs
        expected = 1e-3 * num_inputs * share * sum(TINY_ENCODER_CHANNELS)
        assert len(exchanging) == 3
        for log in train:
            assert log['sparsity_penalty'] == pytest.approx(expected, rel=2e-3)
    else:
        assert not exchanging and not any('sparsity' in k for k in train[-1])
    targets = [t['target'] for t in cfg.tasks]
    for target in targets:
        metric = 'fid' if target == 'rgb' else 'MAE'
        values = [log[k] for log in logs for k in log
                  if k.startswith(f'{target}/') and k.endswith(metric)]
        assert values and all(math.isfinite(v) for v in values), (target, logs[-1])
    assert num_tasks == len(targets) and num_inputs == len(cfg.tasks[0]['inputs'])
