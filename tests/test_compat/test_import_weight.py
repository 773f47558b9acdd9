"""Importing the segmentation side must not import mmagic, diffusers or transformers."""
import json
import subprocess
import sys

import pytest

from tests.fixtures.tools import ROOT, tool_env

HEAVY = ('mmagic', 'diffusers', 'transformers')


def _loaded_after(statement: str) -> list:
    code = (f'{statement}\nimport sys, json\n'
            f'print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))')
    out = subprocess.run([sys.executable, '-c', code], cwd=ROOT, env=tool_env(),
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


@pytest.mark.e2e
def test_import_cen_mm_does_not_import_mmagic():
    assert _loaded_after('import cen_mm') == []


@pytest.mark.e2e
def test_building_a_seg_config_does_not_import_mmagic():
    stmt = ('from mmengine.config import Config\n'
            "cfg = Config.fromfile('tests/fixtures/configs/tiny_seg.py')\n"
            'from mmseg.registry import MODELS\n'
            'from mmengine.registry import init_default_scope\n'
            "init_default_scope('mmseg')\n"
            'MODELS.build(cfg.model)')
    assert _loaded_after(stmt) == []


@pytest.mark.e2e
def test_the_check_itself_detects_mmagic():
    # guards against a vacuous check: importing the translation stack is seen
    assert 'mmagic' in _loaded_after('import mmagic.models')


@pytest.mark.e2e
def test_adafactor_still_buildable_from_configs():
    """cen_mm defers mmengine's transformers import; Adafactor must keep working."""
    code = ('import cen_mm, sys, torch\n'
            'from mmengine.registry import OPTIMIZERS\n'
            "assert 'transformers' not in sys.modules\n"
            'p = [torch.nn.Parameter(torch.ones(2, 2))]\n'
            "opt = OPTIMIZERS.build(dict(type='Adafactor', params=p, lr=1e-3, "
            'relative_step=False))\n'
            'print(type(opt).__module__, type(opt).__name__)')
    out = subprocess.run([sys.executable, '-c', code], cwd=ROOT, env=tool_env(),
                         capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1].split() == ['transformers.optimization',
                                                   'Adafactor']
