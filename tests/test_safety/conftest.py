"""Fixtures of the safety tests: tiny datasets, in-process CEN runners, a checkpoint
whose unpickling would create a marker file."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from tests.fixtures.data import write_tiny_paired_dataset, write_tiny_seg_dataset
from tests.fixtures.tools import TINY_PIX2PIX, TINY_SEG


class OpenOnUnpickle:
    """Unpickling this object calls ``open(marker, 'w')``: creates the marker file."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, 'w'))


def write_evil_checkpoint(path: str, marker: str) -> str:
    """A checkpoint that looks like mmengine's but runs code when fully unpickled."""
    torch.save({'meta': {}, 'state_dict': {'w': torch.zeros(1)},
                'payload': OpenOnUnpickle(marker)}, path)
    return path


@pytest.fixture
def evil(tmp_path):
    marker = str(tmp_path / 'PWNED')
    return write_evil_checkpoint(str(tmp_path / 'evil.pth'), marker), marker


@pytest.fixture(scope='session')
def seg_data(tmp_path_factory):
    return write_tiny_seg_dataset(str(tmp_path_factory.mktemp('safety') / 'seg'))


@pytest.fixture(scope='session')
def paired_data(tmp_path_factory):
    return write_tiny_paired_dataset(str(tmp_path_factory.mktemp('safety') / 'pair'))


_RUNS = [0]


def seg_cfg(data_root: str, work_dir, **options) -> Config:
    """The tiny mmseg config on ``data_root``, ``options`` merged (dotted keys)."""
    cfg = Config.fromfile(TINY_SEG)
    _RUNS[0] += 1
    merged = {f'{loader}.dataset.data_root': data_root for loader in
              ('train_dataloader', 'val_dataloader', 'test_dataloader')}
    merged.update({'work_dir': str(work_dir), 'train_cfg.val_interval': 100,
                   'experiment_name': f'safety_{_RUNS[0]}_{osp.basename(str(work_dir))}'})
    merged.update(options)
    cfg.merge_from_dict(merged)
    return cfg


def pix2pix_cfg(data_root: str, work_dir, **options) -> Config:
    cfg = Config.fromfile(TINY_PIX2PIX)
    _RUNS[0] += 1
    merged = {'train_dataloader.dataset.data_root': data_root, 'work_dir': str(work_dir),
              'experiment_name': f'safety_{_RUNS[0]}_{osp.basename(str(work_dir))}'}
    merged.update(options)
    cfg.merge_from_dict(merged)
    return cfg


def build(cfg: Config):
    from cen_mm.engine.runner import CENRunner
    return CENRunner.from_cfg(cfg)


@pytest.fixture
def seg_runner(seg_data, tmp_path):
    """``seg_runner(name, **options)``: a CENRunner of the tiny mmseg config."""
    return lambda name='work', **options: build(
        seg_cfg(seg_data, tmp_path / name, **options))


@pytest.fixture
def pix2pix_runner(paired_data, tmp_path):
    """``pix2pix_runner(name, **options)``: a CENRunner of the tiny mmagic config."""
    return lambda name='work', **options: build(
        pix2pix_cfg(paired_data, tmp_path / name, **options))
