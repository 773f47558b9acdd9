"""--resume on torch 2.14: interrupted N + resumed N == uninterrupted 2N (weights)."""
import os.path as osp

import pytest
import torch

from tests.fixtures.data import write_tiny_paired_dataset, write_tiny_seg_dataset
from tests.fixtures.tools import TINY_PIX2PIX, TINY_SEG, seg_data_options, train

N = 2


def _weights(path):
    return torch.load(path, weights_only=False)['state_dict']


def _assert_same_weights(a, b):
    assert set(a) == set(b)
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=1e-5, atol=1e-6, msg=k)


def _interrupt(n):
    return [f'custom_hooks.0.iteration={n}']


@pytest.fixture(scope='module')
def seg_data(tmp_path_factory):
    return write_tiny_seg_dataset(str(tmp_path_factory.mktemp('resume') / 'data'))


@pytest.mark.e2e
@pytest.mark.parametrize('mode', ['auto', 'path'])
def test_seg_resume_matches_uninterrupted(seg_data, tmp_path, mode):
    opts = seg_data_options(seg_data) + [
        f'train_cfg.max_iters={2 * N}', 'train_cfg.val_interval=100',
        'default_hooks.checkpoint.interval=1'
    ]
    full = tmp_path / 'full'
    train(TINY_SEG, full, '--cfg-options', *opts)

    part = tmp_path / 'part'
    proc = train(TINY_SEG, part, '--cfg-options', *opts, *_interrupt(N),
                 check=False)
    assert proc.returncode != 0 and 'interrupted after iteration' in proc.stderr
    assert osp.exists(part / f'iter_{N}.pth')
    assert not osp.exists(part / f'iter_{N + 1}.pth')

    resume = ['--resume'] if mode == 'auto' else ['--resume', str(part / f'iter_{N}.pth')]
    proc = train(TINY_SEG, part, *resume, '--cfg-options', *opts)
    assert f'resumed epoch: 0, iter: {N}' in proc.stdout + proc.stderr
    _assert_same_weights(_weights(part / f'iter_{2 * N}.pth'),
                         _weights(full / f'iter_{2 * N}.pth'))
    # and the interruption point really differs from the end point
    assert not torch.allclose(_weights(part / f'iter_{N}.pth')['decode_head.conv_seg.weight'],
                              _weights(full / f'iter_{2 * N}.pth')['decode_head.conv_seg.weight'])


@pytest.mark.e2e
def test_mmagic_resume_matches_uninterrupted(tmp_path):
    data = write_tiny_paired_dataset(str(tmp_path / 'data'))
    opts = [f'train_dataloader.dataset.data_root={data}', f'train_cfg.max_iters={2 * N}',
            'default_hooks.checkpoint.interval=1']
    train(TINY_PIX2PIX, tmp_path / 'full', '--cfg-options', *opts)
    proc = train(TINY_PIX2PIX, tmp_path / 'part', '--cfg-options', *opts,
                 *_interrupt(N), check=False)
    assert proc.returncode != 0
    train(TINY_PIX2PIX, tmp_path / 'part', '--resume', '--cfg-options', *opts)
    _assert_same_weights(_weights(tmp_path / 'part' / f'iter_{2 * N}.pth'),
                         _weights(tmp_path / 'full' / f'iter_{2 * N}.pth'))


def test_local_and_url_loaders_are_the_safe_ones():
    import cen_mm  # noqa: F401
    from mmengine.runner.checkpoint import CheckpointLoader

    from cen_mm.engine.runner import load_local_checkpoint, load_url_checkpoint
    assert CheckpointLoader._get_checkpoint_loader('work_dirs/x.pth') is \
        load_local_checkpoint
    assert CheckpointLoader._get_checkpoint_loader('https://host/x.pth') is \
        load_url_checkpoint


def test_local_loader_missing_file_names_it(tmp_path):
    from cen_mm.engine.runner import load_local_checkpoint
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        load_local_checkpoint(str(tmp_path / 'nope.pth'))
