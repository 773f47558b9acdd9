"""Exchange-replacement configs: TPAMI'23 Table 12 (translation to RGB from 2/3/4
inputs, configs/cen_pix2pix/table12_replacements/) and NeurIPS'20 §4.1 items 3 and 5
(RefineNet-R101 on NYUDv2, configs/cen/ablations/replacements/). Every leaf matches its
name, states only its replacement, carries the paper's number; every one trains 2
iterations at tiny sizes in-process with the replacement active (e2e)."""
import functools
import glob
import math
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from cen_mm.core import iter_exchanging_norms
from tests.fixtures.tools import ROOT

TRANSLATION_DIR = osp.join(ROOT, 'configs', 'cen_pix2pix', 'table12_replacements')
SEG_DIR = osp.join(ROOT, 'configs', 'cen', 'ablations', 'replacements')
COLUMNS = {  # file suffix: (inputs, the paper's CEN row FID / KID)
    'depth+normal-to-rgb': (['depth_euclidean', 'normal'], ('84.33', '2.70')),
    'depth+normal+texture-to-rgb': (['depth_euclidean', 'normal', 'edge_texture'],
                                    ('60.90', '1.56')),
    'depth+normal+texture+shade-to-rgb': (
        ['depth_euclidean', 'normal', 'edge_texture', 'reshading'], ('57.19', '1.33')),
}
# TPAMI'23 Table 12: file key -> (replacement type, FID / KID per column; None = "Same
# with CEN", no config)
TABLE12 = {
    'zero': ('zero', [('107.32', '5.39'), ('96.90', '4.75'), ('95.50', '4.68')]),
    'ith-one-other': ('ith_one_other', [None, ('63.14', '1.73'), ('62.76', '1.69')]),
    'same-evenly-spaced': ('same_evenly_spaced',
                           [('106.62', '5.29'), ('95.63', '4.64'), ('95.90', '4.71')]),
    'same-random': ('same_random',
                    [('109.71', '5.62'), ('97.06', '4.92'), ('96.64', '4.85')]),
    'others-evenly-spaced': ('others_evenly_spaced',
                             [('89.52', '3.56'), ('68.11', '2.06'), ('66.15', '1.91')]),
    'others-evenly-spaced-and-ith': ('others_evenly_spaced_and_ith',
                                     [('85.08', '2.92'), ('64.73', '1.82'),
                                      ('61.99', '1.64')]),
    'others-largest-gamma': ('others_largest_gamma',
                             [('88.61', '3.13'), ('68.09', '2.10'), ('68.87', '2.15')]),
    'weighted-others': ('weighted_others', [None, ('61.07', '1.59'), ('58.26', '1.40')]),
    'concat-conv': ('concat_conv', [None, ('63.32', '1.73'), ('61.70', '1.64')]),
}
TRANSLATION = [(key, column, type_, paper)
               for key, (type_, numbers) in TABLE12.items()
               for column, paper in zip(COLUMNS, numbers) if paper is not None]
# NeurIPS'20 §4.1: file suffix -> (replacement, ensemble mIoU)
SEG = {
    'discard': (dict(type='zero'), '47.5'),
    'sum': (dict(type='sum', scope='all'), '48.1'),
    'sum-gated': (dict(type='gated_sum', scope='all'), '48.4'),
}


def header(path):
    """The leaf's comment lines joined into one line."""
    return ' '.join(line.lstrip('#').strip() for line in open(path)
                    if line.startswith('#'))


@functools.lru_cache(maxsize=None)
def parsed(path):
    return Config.fromfile(path, import_custom_modules=False)


def translation_leaf(key, column):
    return osp.join(TRANSLATION_DIR, f'cen-pix2pix_fusion-replace-{key}_{column}'
                    '_taskonomy.py')


def seg_leaf(suffix):
    return osp.join(SEG_DIR, f'refinenet_r101_nyud_{suffix}.py')


def test_the_grid_is_complete():
    assert len(TRANSLATION) == 24  # 9 rows x 3 columns, less 3 "Same with CEN"
    assert sorted(glob.glob(osp.join(TRANSLATION_DIR, '*.py'))) == sorted(
        translation_leaf(k, c) for k, c, _, _ in TRANSLATION)
    assert sorted(glob.glob(osp.join(SEG_DIR, '*.py'))) == sorted(map(seg_leaf, SEG))


@pytest.mark.parametrize('key, column, type_, paper', TRANSLATION,
                         ids=[f'{k}-{c}' for k, c, _, _ in TRANSLATION])
def test_translation_leaf(key, column, type_, paper):
    path = translation_leaf(key, column)
    cfg = Config.fromfile(path, import_custom_modules=False)
    base = parsed(osp.join(ROOT, 'configs', 'cen_pix2pix',
                           f'cen-pix2pix_fusion_{column}_taskonomy.py'))
    replacement = cfg.model.generator.pop('exchange_replacement')
    assert replacement['type'] == type_
    assert cfg.model.to_dict() == base.model.to_dict()  # only the replacement differs
    assert cfg.tasks == [dict(inputs=COLUMNS[column][0], target='rgb')]
    text = header(path)
    assert f'{paper[0]} / {paper[1]}' in text  # the paper's FID / KID
    assert '{} / {}'.format(*COLUMNS[column][1]) in text  # and its CEN row
    assert "Table 12" in text and 'ours' not in text.lower()


@pytest.mark.parametrize('suffix', list(SEG))
def test_seg_leaf(suffix):
    replacement, miou = SEG[suffix]
    cfg = Config.fromfile(seg_leaf(suffix), import_custom_modules=False)
    base = parsed(osp.join(ROOT, 'configs', 'cen', 'refinenet_r101_nyud.py'))
    assert cfg.model.backbone.pop('exchange_replacement') == replacement
    assert cfg.model.to_dict() == base.model.to_dict()
    assert cfg.custom_hooks == base.custom_hooks  # l1 and theta as in full CEN
    text = header(seg_leaf(suffix))
    assert f'mIoU): {miou}' in text and '§4.1' in text


# ---- tiny trainings (e2e) -----------------------------------------------------------
@pytest.fixture(scope='module')
def assets(tmp_path_factory):
    from tests.fixtures.converted_rgbd import converted_nyud
    from tests.fixtures.translation_data import (write_stand_in_inception,
                                                 write_tiny_taskonomy)
    tmp = tmp_path_factory.mktemp('replacements')
    return dict(
        taskonomy=write_tiny_taskonomy(str(tmp / 'taskonomy'), num_train=2, num_val=2,
                                       size=40),
        inception=write_stand_in_inception(str(tmp / 'stand_in_inception.pt')),
        nyud=converted_nyud(str(tmp), 'cen', train=(1, 2, 3, 4), test=(5, )))


def translation_options(assets):
    opts = {
        'model.generator.num_down': 5, 'model.generator.base_channels': 8,
        # every sub-part channel (|gamma| ~ 1 < 2) is replaced from the first step
        'model.generator.threshold': 2.0, 'model.discriminator.base_channels': 4,
        'train_dataloader.dataset.pipeline.1.scale': (36, 36),
        'train_dataloader.dataset.pipeline.2.crop_size': (32, 32),
        'train_dataloader.batch_size': 2, 'train_dataloader.num_workers': 0,
        'train_dataloader.persistent_workers': False,
        'train_dataloader.dataset.data_root': assets['taskonomy'],
        'train_dataloader.dataset.ann_file': 'train.txt',
    }
    return opts


def seg_options(assets, cfg):
    opts = {'train_dataloader.dataset.data_root': assets['nyud'],
            'train_dataloader.num_workers': 0,
            'train_dataloader.persistent_workers': False}
    types = [t['type'] for t in cfg.train_dataloader.dataset.pipeline]
    pipeline = 'train_dataloader.dataset.pipeline'
    widths = (32, 64, 128, 256)  # ResNet-50 with base_channels=8
    opts.update({
        'train_dataloader.batch_size': 2,
        f'{pipeline}.{types.index("RandomResize")}.scale': (64, 48),
        f'{pipeline}.{types.index("RandomCrop")}.crop_size': (64, 64),
        'model.data_preprocessor.size': (64, 64),
        'model.backbone.depth': 50, 'model.backbone.base_channels': 8,
        'model.backbone.stem_channels': 8, 'model.backbone.init_cfg': None,
        'model.backbone.norm_eval': False, 'model.backbone.exchange_threshold': 2.0,
        'model.decode_head.in_channels': widths,
        'model.decode_head.stage_channels': (16, 8, 8, 8),
    })
    return opts


def train_two_iterations(cfg, scope):
    """The config's model, data pipeline and optimizer, 2 training steps in-process
    (no Runner: its loop is covered by the paper configs' own tests)."""
    from mmengine.logging import MessageHub
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import MODELS, DefaultScope
    from mmengine.runner import Runner
    with DefaultScope.overwrite_default_scope(scope):
        model = MODELS.build(cfg.model)
        model.init_weights()
        initial = {k: v.detach().clone() for k, v in model.named_parameters()
                   if '.exchange_replacement.' in k}
        loader = Runner.build_dataloader(cfg.train_dataloader)
        optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
        hub = MessageHub.get_current_instance()
        logs = []
        for i, batch in zip(range(2), loader):
            hub.update_info('iter', i)
            logs.append({k: float(v) for k, v in
                         model.train_step(batch, optim_wrapper).items()})
    return model, logs, initial


def _check_replacement(model, type_name):
    """Every exchanging norm of ``model`` carries a replacement of class ``type_name``."""
    norms = [norm for _, norm in iter_exchanging_norms(model)]
    assert norms
    for norm in norms:
        assert type(norm.exchange_replacement).__name__ == type_name
    return norms


LEARNED = {'WeightedOthersReplacement': 'logits', 'ConcatConvReplacement': 'weight',
           'GatedSumReplacement': 'gate'}
RUNS = ([('translation', k, c) for k, c, _, _ in TRANSLATION]
        + [('seg', s, None) for s in SEG])


@pytest.mark.e2e
@pytest.mark.parametrize('kind, key, column', RUNS,
                         ids=[f'{k}-{c}' if c else f'seg-{k}' for _, k, c in RUNS])
def test_trains_two_iterations(assets, kind, key, column):
    from cen_mm.core.exchange_replacements import EXCHANGE_REPLACEMENTS
    if kind == 'translation':
        from cen_mm.translation.task_keys import fill_task_keys
        cfg = fill_task_keys(Config.fromfile(translation_leaf(key, column)))
        cfg.merge_from_dict(translation_options(assets))
        type_, scope, loss_key = TABLE12[key][0], 'mmagic', 'loss_pixel'
    else:
        import cen_mm.seg  # noqa: F401
        cfg = Config.fromfile(seg_leaf(key))
        cfg.merge_from_dict(seg_options(assets, cfg))
        type_, scope, loss_key = SEG[key][0]['type'], 'mmseg', 'loss'
    model, logs, initial = train_two_iterations(cfg, scope)
    assert len(logs) == 2
    assert all(math.isfinite(log[loss_key]) and log[loss_key] > 0 for log in logs)
    norms = _check_replacement(model, EXCHANGE_REPLACEMENTS.get(type_).__name__)
    assert all(norm.exchange_mask().any() for norm in norms)  # the replacement acted
    learned = LEARNED.get(type(norms[0].exchange_replacement).__name__)
    assert bool(initial) == bool(learned)
    if learned:
        # the model's init_weights leaves them at their own initialisation (CEN's
        # mean: logits 0, conv weight 1/(M-1), bias 0; gate logit 0); 2 steps train them
        num_streams = norms[0].num_streams
        start = dict(logits=0.0, weight=1.0 / (num_streams - 1), bias_param=0.0, gate=0.0)
        for key, value in initial.items():
            expected = start[key.rpartition('.')[2]]
            assert torch.allclose(value, torch.full_like(value, expected)), key
        trained = dict(model.named_parameters())
        assert any(not torch.equal(trained[k], v) for k, v in initial.items())
