"""Every config in configs/cen_pix2pix/ parses, builds its model (on the meta device),
and is consistent: datasets load every domain of the tasks, every (output, stream) is
evaluated with the papers' metric for its kind, the sparsity hook is present exactly when
the model has exchanging layers, and the papers' hyper-parameters are in place."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

import cen_mm.translation  # noqa: F401
from cen_mm.core import iter_exchanging_norms
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


@pytest.mark.parametrize('path', CONFIGS, ids=[osp.basename(c)[12:-3] for c in CONFIGS])
def test_config_consistency(path):
    cfg = Config.fromfile(path)
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
