"""cen_mm used from a user's own project (outside this repository) with the *stock*
OpenMMLab entry point logic (plain ``Config.fromfile`` + ``Runner.from_cfg``)."""
import glob
import json
import os.path as osp
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from PIL import Image

from tests.fixtures.tools import ROOT, tool_env

DEMO = 'cen/demo_refinenet_r18_synthrgbd.py'

# What mmseg's / mmpretrain's own tools/train.py do, minus argument parsing.
STOCK_TRAIN = textwrap.dedent('''
    import sys
    from mmengine.config import Config
    from mmengine.runner import Runner
    cfg = Config.fromfile(sys.argv[1])
    cfg.work_dir = sys.argv[2]
    Runner.from_cfg(cfg).train()
''')

SHORT_RUN = textwrap.dedent('''
    train_cfg = dict(max_iters=2, val_interval=2)
    train_dataloader = dict(batch_size=2, num_workers=0)
    val_dataloader = dict(num_workers=0, dataset=dict(num_samples=8))
    test_dataloader = dict(num_workers=0)
    default_hooks = dict(checkpoint=dict(interval=2), logger=dict(interval=1))
''')


def _run_stock(project, config, work_dir):
    """Run the stock training logic from inside the user's project directory."""
    env = tool_env()
    env['PYTHONPATH'] = str(project)  # the user's project, NOT the cen_mm checkout
    proc = subprocess.run([sys.executable, str(project / 'train_stock.py'),
                           str(project / config), str(work_dir)],
                          cwd=project, env=env, capture_output=True, text=True,
                          timeout=900)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    return proc


def _project(tmp_path, config_text, extra_files=None):
    project = tmp_path / 'my_project'
    (project / 'my_project').mkdir(parents=True)
    (project / 'my_project' / '__init__.py').write_text('')
    (project / 'train_stock.py').write_text(STOCK_TRAIN)
    (project / 'my_config.py').write_text(config_text)
    for name, text in (extra_files or {}).items():
        (project / name).write_text(text)
    return project


def _losses(work_dir):
    scalars = glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))[0]
    return [json.loads(line) for line in open(scalars) if 'loss' in line]


MY_HOOK = textwrap.dedent('''
    from mmengine.hooks import Hook
    from mmengine.registry import HOOKS

    @HOOKS.register_module()
    class CountItersHook(Hook):
        def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
            runner.message_hub.update_scalar('train/my_count', runner.iter + 1)
''')


@pytest.mark.e2e
@pytest.mark.parametrize('base', ['path', 'package'])
def test_user_config_inherits_cen_mm_config(tmp_path, base):
    base_ref = (osp.join(ROOT, 'configs', DEMO) if base == 'path'
                else f'cen_mm::{DEMO}')
    config = f'_base_ = [{base_ref!r}]\n' + textwrap.dedent('''
        custom_imports = dict(imports=['cen_mm', 'my_project.hooks'],
                              allow_failed_imports=False)
        custom_hooks = [dict(type='CountItersHook')]
    ''') + SHORT_RUN
    project = _project(tmp_path, config, {'my_project/hooks.py': MY_HOOK})
    work = tmp_path / 'work'
    _run_stock(project, 'my_config.py', work)
    ckpt = torch.load(str(work / 'iter_2.pth'), weights_only=False)
    # the inherited CEN model was trained: per-stream norms and the ensemble weights
    assert any('.norms.1.' in k for k in ckpt['state_dict'])
    assert 'ensemble.alpha' in ckpt['state_dict']
    records = _losses(str(work))
    assert [r['iter'] for r in records] == [1, 2]
    assert [r['my_count'] for r in records] == [1, 2]  # the user's own hook ran
    assert all(np.isfinite(r['loss']) for r in records)


def _write_rgbd_classification_data(root, size=32):
    """mmpretrain CustomDataset layout: root/<class>/<i>.png, 4-channel PNG (RGB+D)."""
    rng = np.random.default_rng(0)
    for cls in ('near', 'far'):
        (root / cls).mkdir(parents=True)
        for i in range(4):
            rgbd = rng.integers(0, 255, (size, size, 4), dtype=np.uint8)
            rgbd[..., 3] = 40 if cls == 'near' else 220  # depth tells the class
            Image.fromarray(rgbd, mode='RGBA').save(root / cls / f'{i}.png')


MMPRETRAIN_CONFIG = textwrap.dedent('''
    default_scope = 'mmpretrain'
    custom_imports = dict(imports=['cen_mm', 'cen_mm.cls'], allow_failed_imports=False)
    model = dict(
        type='CENImageClassifier',
        data_preprocessor=dict(type='ClsDataPreprocessor', num_classes=2,
                               mean=[128.] * 4, std=[64.] * 4, to_rgb=False),
        backbone=dict(type='CENResNet', depth=18, in_channels=(3, 1),
                      stem_channels=8, base_channels=8, out_indices=(3, )),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=2, in_channels=64,
                  loss=dict(type='CrossEntropyLoss')))
    pipeline = [dict(type='LoadImageFromFile', color_type='unchanged'),
                dict(type='PackInputs')]
    train_dataloader = dict(
        batch_size=4, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=True),
        dataset=dict(type='CustomDataset', data_root='DATA', pipeline=pipeline))
    optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.01, momentum=0.9))
    train_cfg = dict(by_epoch=False, max_iters=2)
    default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=2,
                                         by_epoch=False),
                         logger=dict(type='LoggerHook', interval=1))
    custom_hooks = [dict(type='CENSparsityHook', lambda_=5e-3)]
    log_processor = dict(by_epoch=False)
''')


@pytest.mark.e2e
def test_cen_resnet_in_mmpretrain_classifier(tmp_path):
    data = tmp_path / 'data'
    _write_rgbd_classification_data(data)
    project = _project(tmp_path, MMPRETRAIN_CONFIG.replace('DATA', str(data)))
    work = tmp_path / 'work'
    _run_stock(project, 'my_config.py', work)
    ckpt = torch.load(str(work / 'iter_2.pth'), weights_only=False)
    assert ckpt['state_dict']['ensemble.alpha'].shape == (2, )
    records = _losses(str(work))
    assert [r['iter'] for r in records] == [1, 2]
    for key in ('s0.loss', 's1.loss', 'ens.loss'):
        assert all(np.isfinite(r[key]) for r in records)
    # the total is the sum of the stream and ensemble losses (+ nothing else)
    for r in records:
        assert r['loss'] == pytest.approx(r['s0.loss'] + r['s1.loss'] + r['ens.loss'],
                                          rel=1e-4)


def test_cen_classifier_ensemble_and_streams():
    import cen_mm.cls  # noqa: F401
    import mmpretrain.models  # noqa: F401
    from mmengine.registry import DefaultScope
    from mmpretrain.registry import MODELS
    from mmpretrain.structures import DataSample
    torch.manual_seed(0)
    cfg = dict(type='CENImageClassifier',
               backbone=dict(type='CENResNet', depth=18, in_channels=(3, 1),
                             stem_channels=8, base_channels=8, out_indices=(3, )),
               neck=dict(type='GlobalAveragePooling'),
               head=dict(type='LinearClsHead', num_classes=3, in_channels=64))
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = MODELS.build(cfg).eval()
    model.alpha.data = torch.tensor([0.3, -0.2])
    x = torch.randn(2, 4, 32, 32)
    s0, s1, ens = model(x)
    w = torch.softmax(model.alpha, 0)
    torch.testing.assert_close(ens, w[0] * s0 + w[1] * s1)
    preds = model.predict(x, [DataSample(), DataSample()])
    assert [p.pred_label.item() for p in preds] == ens.argmax(1).tolist()
    model.output = 1
    preds = model.predict(x, [DataSample(), DataSample()])
    assert [p.pred_label.item() for p in preds] == s1.argmax(1).tolist()


def test_single_stream_in_stock_encoder_decoder():
    """CENResNet + SelectStream as backbone of mmseg's stock EncoderDecoder."""
    import mmseg.models  # noqa: F401
    from mmengine.registry import DefaultScope
    from mmseg.registry import MODELS
    torch.manual_seed(0)
    backbone = dict(type='CENResNet', depth=18, in_channels=(3, ), exchange=False,
                    stem_channels=8, base_channels=8)
    cfg = dict(type='EncoderDecoder', backbone=backbone,
               neck=dict(type='SelectStream', index=0),
               decode_head=dict(type='FCNHead', in_channels=64, in_index=3, channels=8,
                                num_convs=1, num_classes=3, dropout_ratio=0.0),
               test_cfg=dict(mode='whole'))
    with DefaultScope.overwrite_default_scope('mmseg'):
        model = MODELS.build(cfg).eval()
    x = torch.randn(1, 3, 32, 32)
    logits = model(x, mode='tensor')
    assert logits.shape == (1, 3, 1, 1)
    feats = model.backbone(x)
    assert len(feats) == 1
    torch.testing.assert_close(logits, model.decode_head(feats[0]))
