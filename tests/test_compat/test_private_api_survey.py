"""Private upstream APIs are used only in cen_mm/compat, or listed with a reason in
docs/compat.md §2 (the table is the allow-list: a new use fails here until it moves to
cen_mm/compat or gets a row; a row whose use is gone fails too)."""
import os
import os.path as osp
import re
import sys

import pytest

sys.path.insert(0, osp.dirname(__file__))
from private_api_scan import private_uses  # noqa: E402

ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
DOC = osp.join(ROOT, 'docs', 'compat.md')
# cen_mm's own objects (not upstream APIs)
OWN = {('cen_mm/seg/apis/stream_tta.py', '_warned')}


def scanned_files():
    files = ['cen_mm_scope.py', 'setup.py']
    for top in ('cen_mm', 'tools'):
        for folder, _, names in os.walk(osp.join(ROOT, top)):
            rel = osp.relpath(folder, ROOT).replace(os.sep, '/')
            if rel == 'cen_mm/compat' or '/.mim' in rel or '__pycache__' in rel:
                continue
            files += [f'{rel}/{n}' for n in sorted(names) if n.endswith('.py')]
    return files


def documented() -> set:
    """(file, private name) rows of docs/compat.md §2."""
    text = open(DOC, encoding='utf-8').read()
    section = text.split('## 2.')[1].split('\n## ')[0]
    rows = set()
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip('|').split('|')]
        if len(cells) == 3 and cells[0].startswith('`'):
            path = cells[0].strip('`')
            for name in re.findall(r'`(_[a-z]\w*)`', cells[1]):
                rows.add((path, name))
    return rows


def found() -> dict:
    uses = {}
    for rel in scanned_files():
        with open(osp.join(ROOT, rel), encoding='utf-8') as f:
            for line, use in private_uses(f.read()):
                name = use.rsplit('.', 1)[-1]
                if (rel, name) not in OWN:
                    uses.setdefault((rel, name), []).append(f'{rel}:{line} {use}')
    return uses


def test_scanner_finds_private_accesses():
    src = ('import x\nfrom mmengine.runner.checkpoint import _load_checkpoint\n'
           'head._get_loss(1)  # self._no\ny = "a._b"\nself._mine = 1\n'
           'super()._forward()\nwrapper._clip_grad = f\nimport pip._vendor\n')
    assert [u for _, u in private_uses(src)] == [
        'mmengine.runner.checkpoint._load_checkpoint', 'head._get_loss',
        'wrapper._clip_grad', 'pip._vendor']


@pytest.mark.e2e
def test_every_private_use_outside_compat_is_documented():
    rows = documented()
    assert rows, f'no rows parsed from {DOC} §2'
    undocumented = {k: v for k, v in found().items() if k not in rows}
    if undocumented:
        pytest.fail('private upstream API used outside cen_mm/compat without a row in '
                    'docs/compat.md §2 (move it into cen_mm/compat, or add a row '
                    'saying why):\n' + '\n'.join(u for v in undocumented.values()
                                                 for u in v))


def test_no_stale_rows():
    stale = sorted(documented() - set(found()))
    assert not stale, f'docs/compat.md §2 lists uses that are gone: {stale}'
