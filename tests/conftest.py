"""Test-session settings: the suite is many tiny CPU workloads, for which one torch
thread is much faster than several (thread start-up dominates, esp. on a busy machine).

Markers (registered in ``setup.cfg``): ``e2e`` marks end-to-end and slow integration
tests (subprocess ``tools/train.py`` / ``tools/test.py`` / ``tools/dist_train.sh``, demos
and converters run as scripts, Runner trainings, builds of full-size paper models,
``torch.compile``, spawned workers: anything taking about a second or more).
``python -m pytest tests`` runs everything (README, CI); ``python -m pytest tests -m
"not e2e"`` is the fast unit run (under 2 minutes).

Layout: ``tests/`` mirrors the package (``test_core``, ``test_models/test_backbones``,
``test_seg/test_datasets``, ``test_translation/test_models``, ``test_engine/test_hooks``,
...), plus ``test_configs`` (the config trees), ``test_tools`` (``tools/`` scripts),
``test_install`` and ``test_user_project``; shared fixtures live in ``tests/fixtures``.
"""
import pytest
import torch
from mmengine.registry import DefaultScope

torch.set_num_threads(1)


def _restoring_default_scope():
    saved = DefaultScope._instance_dict.copy()
    yield
    DefaultScope._instance_dict.clear()
    DefaultScope._instance_dict.update(saved)


# A test (or a module fixture) that builds a Runner or an inferencer, or calls
# ``init_default_scope``, makes its scope ('mmengine', 'mmseg', 'mmagic', ...) the current
# one for everything that runs later. Restore the scope each module and each test found,
# so that no test depends on which tests ran before it (``-m "not e2e"``, ``-k``).
_restore_default_scope_per_module = pytest.fixture(scope='module', autouse=True)(
    _restoring_default_scope)
_restore_default_scope_per_test = pytest.fixture(autouse=True)(_restoring_default_scope)


# Fixtures shared by the engine and tool tests (tiny datasets, in-process CEN runners,
# a checkpoint whose unpickling would create a marker file).
from tests.fixtures.runners import (evil, paired_data, pix2pix_runner,  # noqa: F401,E402
                                    seg_data, seg_runner)
