"""Checkpoints load with an allow-list: everything the stack writes loads exactly, a
malicious file is refused on every path (without running), --unsafe-load opts in."""
import os
import sys
import os.path as osp

import pytest
import torch

from cen_mm.engine.runner import (CheckpointNotFoundError, CorruptCheckpointError,
                                  UnsafeCheckpointError, safe_global_names,
                                  load_local_checkpoint, load_url_checkpoint,
                                  safe_torch_load, unsafe_checkpoint_loading)
from tests.fixtures.tools import TINY_SEG, run, seg_data_options, train


def _allowed_names():
    return safe_global_names()


def _assert_same(a, b, where='checkpoint'):
    assert type(a) is type(b), where
    if isinstance(a, dict):
        assert list(a) == list(b), where
        for k in a:
            _assert_same(a[k], b[k], f'{where}[{k!r}]')
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_same(x, y, f'{where}[{i}]')
    elif isinstance(a, torch.Tensor):
        assert torch.equal(a, b), where
    elif hasattr(a, '__dict__') and not isinstance(a, type):
        _assert_same(vars(a), vars(b), where)
    elif hasattr(a, 'shape'):  # numpy
        assert (a == b).all(), where
    else:
        assert a == b, where


@pytest.mark.e2e
@pytest.mark.parametrize('kind', ['seg', 'seg_amp', 'pix2pix'])
def test_stack_checkpoints_hold_only_allow_listed_globals(kind, seg_runner,
                                                          pix2pix_runner):
    """Real checkpoints of tiny runners (optimizer, schedulers, message hub, AMP loss
    scaler): every global they reference is allow-listed and the safe load equals
    the full unpickle."""
    opts = {'train_cfg.max_iters': 2, 'default_hooks.checkpoint.interval': 2}
    if kind == 'pix2pix':
        runner = pix2pix_runner(**opts)
    else:
        if kind == 'seg_amp':
            opts['optim_wrapper.type'] = 'CPUAmpOptimWrapper'
            opts['optim_wrapper.loss_scale'] = 'dynamic'
        runner = seg_runner(**opts)
    runner.train()
    ckpt = osp.join(runner.work_dir, 'iter_2.pth')
    found = set(torch.serialization.get_unsafe_globals_in_checkpoint(ckpt))
    assert 'mmengine.logging.history_buffer.HistoryBuffer' in found  # needs the list
    assert found <= _allowed_names(), found - _allowed_names()
    _assert_same(safe_torch_load(ckpt), torch.load(ckpt, weights_only=False))


def test_malicious_checkpoint_refused_by_loader_and_opt_in_runs_it(evil):
    path, marker = evil
    with pytest.raises(UnsafeCheckpointError) as err:
        load_local_checkpoint(path)
    msg = str(err.value)
    assert path in msg and 'io.open' in msg and '--unsafe-load' in msg
    assert not osp.exists(marker)
    # the file really is malicious: the explicit opt-in runs its payload
    with unsafe_checkpoint_loading():
        load_local_checkpoint(path)
    assert osp.exists(marker)


def _refused(proc, path, marker):
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out[-3000:]
    assert f'refusing to load checkpoint {path}' in out and 'io.open' in out
    assert 'Traceback' not in proc.stderr
    assert not osp.exists(marker)


@pytest.mark.e2e
def test_tools_test_refuses_malicious_checkpoint(evil, seg_data, tmp_path):
    path, marker = evil
    proc = run([sys.executable, 'tools/test.py', TINY_SEG, path, '--work-dir',
                str(tmp_path / 'w'), '--cfg-options', *seg_data_options(seg_data)],
               check=False)
    _refused(proc, path, marker)


@pytest.mark.e2e
def test_tools_train_resume_via_last_checkpoint_refuses(evil, seg_data, tmp_path):
    path, marker = evil
    work = tmp_path / 'w'
    work.mkdir()
    (work / 'last_checkpoint').write_text(path)
    proc = train(TINY_SEG, work, '--resume', '--cfg-options',
                 *seg_data_options(seg_data), check=False)
    _refused(proc, path, marker)


@pytest.mark.e2e
@pytest.mark.parametrize('how', ['resume_path', 'load_from'])
def test_runner_refuses_malicious_checkpoint(how, evil, seg_runner):
    path, marker = evil
    runner = seg_runner(load_from=path, resume=how == 'resume_path')
    with pytest.raises(UnsafeCheckpointError, match='io.open'):
        runner.train()
    assert not osp.exists(marker)
    assert not osp.exists(osp.join(runner.work_dir, 'iter_2.pth'))


@pytest.mark.e2e
def test_unsafe_load_config_key_opts_in(evil, seg_runner):
    path, marker = evil
    runner = seg_runner(load_from=path, unsafe_load=True, **{'train_cfg.max_iters': 1})
    runner.train()  # non-strict load_from: the tiny state dict does not fit, warned
    assert osp.exists(marker)


def test_truncated_and_non_checkpoint_files_name_the_file(tmp_path):
    good = tmp_path / 'good.pth'
    torch.save({'state_dict': {'w': torch.arange(1000.)}}, good)
    data = good.read_bytes()
    cut = tmp_path / 'cut.pth'
    cut.write_bytes(data[:len(data) // 2])
    with pytest.raises(CorruptCheckpointError, match='cut.pth is truncated'):
        load_local_checkpoint(str(cut))
    text = tmp_path / 'notes.pth'
    text.write_text('not a checkpoint')
    with pytest.raises(CorruptCheckpointError, match='notes.pth'):
        load_local_checkpoint(str(text))
    assert torch.equal(load_local_checkpoint(str(good))['state_dict']['w'],
                       torch.arange(1000.))
    with pytest.raises(CheckpointNotFoundError, match='nope.pth'):
        load_local_checkpoint(str(tmp_path / 'nope.pth'))


def test_http_checkpoint_without_network_is_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv('TORCH_HOME', str(tmp_path))
    url = 'http://127.0.0.1:9/cen/model.pth'  # nothing listens on the discard port
    with pytest.raises(CheckpointNotFoundError, match='cannot download checkpoint '
                       'http://127.0.0.1:9/cen/model.pth'):
        load_url_checkpoint(url)
