"""tools/dist_train.sh with 2 CPU processes (gloo) and dist_test.sh."""
import glob
import os.path as osp

import pytest
import torch

from tests.fixtures.data import write_tiny_seg_dataset
from tests.fixtures.tools import TINY_SEG, run, seg_data_options


@pytest.mark.e2e
def test_dist_train_and_test_two_cpu_processes(tmp_path):
    data = write_tiny_seg_dataset(str(tmp_path / 'data'))
    work = tmp_path / 'work'
    opts = seg_data_options(data) + ['train_cfg.max_iters=2', 'train_cfg.val_interval=2']
    run(['bash', 'tools/dist_train.sh', TINY_SEG, '2', '--work-dir', str(work),
                '--cfg-options', *opts], timeout=900)
    log = open(glob.glob(str(work / '*' / '*.log'))[0]).read()
    assert 'Distributed training: True' in log
    assert 'World size: 2' in log or 'GPU number: 2' in log
    # the last record (validation at the end) reached the file before the ranks exited
    assert 'Iter(val) [1/1]' in log and 'mIoU' in log.rsplit('Iter(val)', 1)[1]
    ckpt = torch.load(str(work / 'iter_2.pth'), weights_only=False)
    assert ckpt['meta']['iter'] == 2
    test_work = tmp_path / 'test'
    run(['bash', 'tools/dist_test.sh', TINY_SEG, str(work / 'iter_2.pth'), '2',
         '--work-dir', str(test_work), '--cfg-options', *seg_data_options(data)],
        timeout=900)
    assert glob.glob(str(test_work / '*' / '*.json'))
