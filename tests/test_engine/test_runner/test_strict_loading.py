"""Evaluating or resuming with a checkpoint of another model is an error naming the
keys; --resume never silently starts from scratch; num_classes must fit the data."""
import os.path as osp
import sys

import pytest

from cen_mm.engine.runner import (CheckpointMismatchError, CheckpointNotFoundError,
                                  ConfigMismatchError)
from tests.fixtures.tools import TINY_SEG, run, seg_data_options


@pytest.fixture
def trained(seg_runner):
    """A 2-iteration checkpoint of the tiny config (decode head: 8 channels)."""
    runner = seg_runner('trained', **{'train_cfg.max_iters': 2,
                                      'default_hooks.checkpoint.interval': 2})
    runner.train()
    return osp.join(runner.work_dir, 'iter_2.pth')


def _test_tool(ckpt, data, work, *extra):
    return run([sys.executable, 'tools/test.py', TINY_SEG, ckpt, '--work-dir',
                str(work), *extra, '--cfg-options', *seg_data_options(data),
                'model.decode_head.channels=16'], check=False)


@pytest.mark.e2e
def test_test_tool_refuses_mis_shaped_checkpoint(trained, seg_data, tmp_path):
    proc = _test_tool(trained, seg_data, tmp_path / 'strict')
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert f'error: checkpoint {trained} does not fit the model' in proc.stderr
    assert 'size mismatch for decode_head.convs.0.conv.weight' in proc.stderr
    assert '--non-strict-load' in proc.stderr and 'Iter(test)' not in proc.stdout
    # asked for explicitly: loads what fits, evaluates
    proc = _test_tool(trained, seg_data, tmp_path / 'loose', '--non-strict-load')
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'Iter(test)' in proc.stdout and 'mIoU: ' in proc.stdout


@pytest.mark.e2e
def test_same_model_checkpoint_tests_strictly(trained, seg_runner):
    runner = seg_runner('same', load_from=trained)
    metrics = runner.test()
    assert 0 <= metrics['mIoU'] <= 100


@pytest.mark.e2e
def test_resume_with_another_configs_checkpoint(trained, seg_runner):
    runner = seg_runner('other', load_from=trained, resume=True,
                        **{'model.decode_head.channels': 16})
    with pytest.raises(CheckpointMismatchError, match=r'(?s)size mismatch for '
                       r'decode_head.*--resume needs a checkpoint of this same config'):
        runner.train()


@pytest.mark.e2e
def test_resume_in_a_work_dir_without_checkpoint(seg_runner, tmp_path):
    runner = seg_runner('empty', resume=True)
    with pytest.raises(CheckpointNotFoundError, match='no checkpoint to resume from '
                       'in the work dir .*empty'):
        runner.train()
    assert not osp.exists(osp.join(runner.work_dir, 'iter_2.pth'))
    gone = str(tmp_path / 'deleted' / 'iter_8.pth')
    with open(osp.join(runner.work_dir, 'last_checkpoint'), 'w') as f:
        f.write(gone)
    runner = seg_runner('empty', resume=True)
    with pytest.raises(CheckpointNotFoundError, match=f'last_checkpoint names {gone}, '
                       'which does not exist'):
        runner.train()


@pytest.mark.e2e
@pytest.mark.parametrize('num_classes', [2, 4])
def test_num_classes_must_match_the_dataset(num_classes, seg_runner):
    runner = seg_runner(f'classes{num_classes}',
                        **{'model.decode_head.num_classes': num_classes})
    with pytest.raises(ConfigMismatchError,
                       match=f'model.decode_head.num_classes={num_classes}, but the '
                       'train dataset BaseSegDataset has 3 classes'):
        runner.train()
