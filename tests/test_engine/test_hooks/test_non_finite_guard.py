"""A diverging run stops with a clear error and a non-zero exit, and never replaces
a finite checkpoint with a non-finite one."""
import math
import os
import os.path as osp
import types

import pytest
import torch

from cen_mm.engine.hooks import NonFiniteGuardHook, SafeCheckpointHook
from cen_mm.engine.runner import NonFiniteTrainingError
from tests.fixtures.tools import TINY_SEG, seg_data_options, train

DIVERGING_LR = '1e6'  # the tiny seg model's loss is NaN/Inf within a few iterations


def _all_finite(path):
    state = torch.load(path, weights_only=False)['state_dict']
    return all(torch.isfinite(v).all() for v in state.values() if v.is_floating_point())


@pytest.mark.e2e
def test_diverging_training_stops_and_keeps_the_finite_checkpoint(seg_data, tmp_path):
    work = tmp_path / 'w'
    proc = train(TINY_SEG, work, '--cfg-options', *seg_data_options(seg_data),
                 f'optim_wrapper.optimizer.lr={DIVERGING_LR}', 'train_cfg.max_iters=30',
                 'default_hooks.checkpoint.interval=1',
                 'default_hooks.checkpoint.max_keep_ckpts=1', check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out[-3000:]
    error = [line for line in proc.stderr.splitlines() if line.startswith('error: ')]
    assert len(error) == 1 and 'non-finite' in error[0], proc.stderr[-3000:]
    assert 'Traceback' not in proc.stderr
    kept = sorted(p for p in os.listdir(work) if p.endswith('.pth'))
    assert len(kept) == 1, kept  # max_keep_ckpts=1: the last finite one, kept
    assert f'the last finite checkpoint is {work / kept[0]}' in error[0]
    assert _all_finite(work / kept[0])
    assert (work / 'last_checkpoint').read_text() == str(work / kept[0])
    assert int(kept[0][len('iter_'):-len('.pth')]) < 30  # stopped early


class _Hub:
    def __init__(self):
        self.info = {}

    def get_info(self, key):
        return self.info.get(key)


class _Logger:
    def __init__(self):
        self.lines = []

    def warning(self, msg):
        self.lines.append(('warning', msg))

    def error(self, msg):
        self.lines.append(('error', msg))


def _fake_runner():
    model = torch.nn.Linear(2, 2)
    return types.SimpleNamespace(model=model, iter=0, message_hub=_Hub(),
                                 logger=_Logger())


def test_guard_patience_counts_consecutive_non_finite_losses():
    hook, runner = NonFiniteGuardHook(patience=2, param_check_interval=0), _fake_runner()
    nan = torch.tensor(float('nan'))
    hook.after_train_iter(runner, 0, outputs=dict(loss=nan))  # 1 of 2: tolerated
    assert runner.logger.lines[-1][0] == 'warning'
    runner.iter = 1
    hook.after_train_iter(runner, 1, outputs=dict(loss=torch.tensor(0.5)))  # resets
    runner.iter = 2
    hook.after_train_iter(runner, 2, outputs=dict(loss=torch.tensor(math.inf)))
    runner.iter = 3
    with pytest.raises(NonFiniteTrainingError, match=r'2 consecutive.*iteration 4'):
        hook.after_train_iter(runner, 3, outputs=dict(loss=torch.tensor(math.inf),
                                                      acc=torch.tensor(1.0)))


def test_guard_stops_at_once_on_non_finite_weights():
    hook, runner = NonFiniteGuardHook(patience=5, param_check_interval=1), _fake_runner()
    hook.after_train_iter(runner, 0, outputs=dict(loss=torch.tensor(1.0)))
    with torch.no_grad():
        runner.model.bias[1] = float('nan')
    with pytest.raises(NonFiniteTrainingError, match=r'non-finite weights \(bias\)'):
        hook.after_train_iter(runner, 1, outputs=dict(loss=torch.tensor(1.0)))
    with pytest.raises(ValueError, match='patience'):
        NonFiniteGuardHook(patience=0)


@pytest.mark.e2e
def test_checkpoint_hook_refuses_non_finite_weights(seg_runner):
    runner = seg_runner(**{'train_cfg.max_iters': 1,
                           'default_hooks.checkpoint.interval': 1,
                           'default_hooks.checkpoint.max_keep_ckpts': 1})
    runner.train()
    work = runner.work_dir
    hook = next(h for h in runner.hooks if isinstance(h, SafeCheckpointHook))
    with torch.no_grad():
        runner.model.decode_head.conv_seg.weight[0, 0] = float('inf')
    with pytest.raises(NonFiniteTrainingError, match='refusing to save iter_2.pth.*'
                       'decode_head.conv_seg.weight.*last finite checkpoint is'):
        hook._save_checkpoint_with_step(runner, 2, dict(iter=2))
    assert not osp.exists(osp.join(work, 'iter_2.pth'))
    assert osp.exists(osp.join(work, 'iter_1.pth'))  # not rotated away
    assert open(osp.join(work, 'last_checkpoint')).read().endswith('iter_1.pth')
