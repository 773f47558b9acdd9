"""Checkpoints are written to a temporary file and renamed; ``last_checkpoint`` is
updated afterwards and the outdated checkpoint removed last, so an interrupted save
(``max_keep_ckpts=1``) always leaves a complete checkpoint to resume from."""
import os
import os.path as osp
import subprocess

import mmengine.runner.runner as mmengine_runner
import pytest
import torch

from cen_mm.engine.hooks import SafeCheckpointHook
from cen_mm.engine.runner import atomic_write_text, remove_stale_partials


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
