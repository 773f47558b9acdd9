"""Importing the segmentation side must not import mmagic, diffusers or transformers."""
import json
import subprocess
import sys

from tests.fixtures.tools import ROOT, tool_env

HEAVY = ('mmagic', 'diffusers', 'transformers')


def _loaded_after(statement: str) -> list:
    code = (f'{statement}\nimport sys, json\n'
            f'print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))')
    out = subprocess.run([sys.executable, '-c', code], cwd=ROOT, env=tool_env(),
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_import_cen_mm_does_not_import_mmagic():
    assert _loaded_after('import cen_mm') == []


def test_building_a_seg_config_does_not_import_mmagic():
    stmt = ('from mmengine.config import Config\n'
            "cfg = Config.fromfile('tests/fixtures/configs/tiny_seg.py')\n"
            'from mmseg.registry import MODELS\n'
            'from mmengine.registry import init_default_scope\n'
            "init_default_scope('mmseg')\n"
            'MODELS.build(cfg.model)')
    assert _loaded_after(stmt) == []


def test_the_check_itself_detects_mmagic():
    # guards against a vacuous check: importing the translation stack is seen
    assert 'mmagic' in _loaded_after('import mmagic.models')
