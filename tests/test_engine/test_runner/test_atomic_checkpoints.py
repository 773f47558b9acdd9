"""Checkpoints are written to a temporary file and renamed; ``last_checkpoint`` is
updated afterwards and the outdated checkpoint removed last, so an interrupted save
(``max_keep_ckpts=1``) always leaves a complete checkpoint to resume from."""
import os
import os.path as osp
import subprocess
import sys

import mmengine.runner.runner as mmengine_runner
import pytest
import torch

from cen_mm.engine.hooks import SafeCheckpointHook
from cen_mm.engine.runner import atomic_write_text, remove_stale_partials
from tests.fixtures.tools import ROOT, TINY_SEG, seg_data_options, tool_env, train


def _one_ckpt_runner(seg_runner):
    runner = seg_runner(**{'train_cfg.max_iters': 1,
                           'default_hooks.checkpoint.interval': 1,
                           'default_hooks.checkpoint.max_keep_ckpts': 1})
    runner.train()
    hook = next(h for h in runner.hooks if isinstance(h, SafeCheckpointHook))
    return runner, hook


def test_default_hooks_are_the_safe_ones(seg_runner):
    runner = seg_runner()
    types = [type(h).__name__ for h in runner.hooks]
    assert 'SafeCheckpointHook' in types and 'NonFiniteGuardHook' in types
    assert 'CheckpointHook' not in types


@pytest.mark.e2e
def test_killed_save_keeps_the_previous_checkpoint(seg_runner, monkeypatch):
    runner, hook = _one_ckpt_runner(seg_runner)
    work = runner.work_dir
    first = osp.join(work, 'iter_1.pth')
    expected = torch.load(first, weights_only=False)['state_dict']

    def write_half_then_die(checkpoint, filepath, **kwargs):
        with open(filepath, 'wb') as f:
            f.write(b'PK\x03\x04 half a checkpoint')
        raise KeyboardInterrupt  # stands for the kill in the middle of the write

    monkeypatch.setattr(mmengine_runner, 'save_checkpoint', write_half_then_die)
    with pytest.raises(KeyboardInterrupt):
        hook._save_checkpoint_with_step(runner, 2, dict(iter=2))
    assert sorted(f for f in os.listdir(work) if 'pth' in f) == ['iter_1.pth']
    assert open(osp.join(work, 'last_checkpoint')).read() == first
    reloaded = torch.load(first, weights_only=False)['state_dict']
    assert all(torch.equal(expected[k], reloaded[k]) for k in expected)

    # the next (complete) save rotates the old checkpoint away only afterwards
    monkeypatch.undo()
    hook._save_checkpoint_with_step(runner, 2, dict(iter=2))
    assert sorted(f for f in os.listdir(work) if 'pth' in f) == ['iter_2.pth']
    assert open(osp.join(work, 'last_checkpoint')).read() == osp.join(work,
                                                                      'iter_2.pth')
    saved = torch.load(osp.join(work, 'iter_2.pth'), weights_only=False)
    assert saved['message_hub']['runtime_info']['keep_ckpt_ids'] == [2]


def test_partials_of_killed_writers_are_removed(tmp_path):
    dead = subprocess.Popen(['true'])
    dead.wait()
    stale = tmp_path / f'.iter_2.pth.partial-{dead.pid}'
    stale.write_bytes(b'truncated')
    ours = tmp_path / f'.iter_3.pth.partial-{os.getpid()}'  # a live writer's
    ours.write_bytes(b'in progress')
    remove_stale_partials(str(tmp_path))
    assert not stale.exists() and ours.exists()
    atomic_write_text(str(tmp_path / 'last_checkpoint'), 'x/iter_1.pth')
    assert (tmp_path / 'last_checkpoint').read_text() == 'x/iter_1.pth'
    assert sorted(p.name for p in tmp_path.iterdir()) == [ours.name, 'last_checkpoint']


_KILL_DURING_SECOND_SAVE = '''
import os, runpy, signal, sys
import mmengine.runner.runner as runner_module
original = runner_module.save_checkpoint
def save_checkpoint(checkpoint, filepath, **kwargs):
    if 'iter_2' in filepath:  # write half of the file, then die like a SIGKILL
        with open(filepath, 'wb') as f:
            f.write(b'PK\\x03\\x04' + b'0' * 1000)
            f.flush()
        os.kill(os.getpid(), signal.SIGKILL)
    return original(checkpoint, filepath, **kwargs)
runner_module.save_checkpoint = save_checkpoint
sys.argv = ['tools/train.py'] + sys.argv[1:]
runpy.run_path('tools/train.py', run_name='__main__')
'''


@pytest.mark.e2e
def test_sigkill_during_save_then_resume(seg_data, tmp_path):
    """The translation demo's setting (max_keep_ckpts=1): SIGKILL while iter_2.pth is
    written leaves iter_1.pth and last_checkpoint intact; --resume continues."""
    work = tmp_path / 'w'
    opts = [*seg_data_options(seg_data), 'train_cfg.max_iters=3',
            'train_cfg.val_interval=100', 'default_hooks.checkpoint.interval=1',
            'default_hooks.checkpoint.max_keep_ckpts=1']
    proc = subprocess.run([sys.executable, '-c', _KILL_DURING_SECOND_SAVE, TINY_SEG,
                           '--work-dir', str(work), '--cfg-options', *opts], cwd=ROOT,
                          env=tool_env(), capture_output=True, text=True, timeout=600)
    assert proc.returncode == -9, proc.stderr[-2000:]
    names = sorted(os.listdir(work))
    assert 'iter_1.pth' in names and 'iter_2.pth' not in names, names
    assert (work / 'last_checkpoint').read_text() == str(work / 'iter_1.pth')
    assert any(n.startswith('.iter_2.pth.partial-') for n in names)  # the torn write
    assert torch.load(work / 'iter_1.pth', weights_only=False)['meta']['iter'] == 1

    proc = train(TINY_SEG, work, '--resume', '--cfg-options', *opts)
    assert 'resumed epoch: 0, iter: 1' in proc.stdout + proc.stderr
    names = sorted(os.listdir(work))
    assert [n for n in names if 'pth' in n] == ['iter_3.pth'], names  # partial removed
    assert (work / 'last_checkpoint').read_text() == str(work / 'iter_3.pth')
