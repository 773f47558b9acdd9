"""The set-up's pins live in one constraints file that every pip call carries.

A new machine once failed because a later pip call (torch, which asks for
setuptools>=77.0.3) upgraded setuptools past 80 and undid an earlier pin; machines with a
cached mmcv wheel never saw it. These tests pin the mechanism that prevents it.
"""
import importlib.util
import re
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
REQ = ROOT / 'requirements'
SCRIPTS = [ROOT / 'tools' / 'install' / 'setup_env.sh',
           ROOT / 'tools' / 'install' / 'build_mmcv.sh']


def _load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _constraints():
    lines = [line.split('#', 1)[0].strip()
             for line in (REQ / 'constraints.txt').read_text().splitlines()]
    return {Requirement(line).name.lower().replace('_', '-'): Requirement(line)
            for line in lines if line}


def _pip_calls(script):
    """Logical lines (continuations joined) of a shell script that invoke pip."""
    text = script.read_text().replace('\\\n', ' ')
    # bash arrays written over several lines: cmd=(... \n ...)
    text = re.sub(r'\w+=\((.*?)\)', lambda m: m.group(0).replace('\n', ' '), text,
                  flags=re.S)
    calls = []
    for line in text.splitlines():
        code = line.split(' #', 1)[0].strip()
        if code.startswith('#'):
            continue
        if re.search(r'(-m pip|"\$\{PIP\[@\]\}") (install|download|wheel)\b', code):
            calls.append(code)
    return calls


@pytest.mark.parametrize('script', SCRIPTS, ids=lambda p: p.name)
def test_every_pip_call_carries_the_constraints_file(script):
    calls = _pip_calls(script)
    assert calls, f'no pip call found in {script}'
    unconstrained = [c for c in calls if '-c "$CONSTRAINTS"' not in c]
    assert not unconstrained, f'pip calls without -c constraints in {script}: {unconstrained}'


def test_pins_exist_only_in_constraints_and_cover_the_stack():
    pins = _constraints()
    for name in ('torch', 'torchvision', 'setuptools', 'numpy', 'mmengine', 'mmcv',
                 'mmsegmentation', 'mmpretrain', 'mmagic', 'diffusers'):
        assert name in pins, f'{name} is not pinned in requirements/constraints.txt'
    # the two pins that a later pip call used to undo
    assert pins['setuptools'].specifier.contains('80.9.0')
    assert not pins['setuptools'].specifier.contains('81.0.0')
    assert pins['setuptools'].specifier.contains('77.0.3')  # torch 2.14.1 needs it
    assert not pins['numpy'].specifier.contains('2.0.0')
    assert pins['numpy'].specifier.contains('1.26.4')
    assert str(pins['torch'].specifier) == '==2.14.1'
    assert str(pins['mmcv'].specifier) == '==2.1.0'
    # requirement files name packages only; a version there could contradict the pin
    for path in REQ.glob('*.txt'):
        if path.name == 'constraints.txt':
            continue
        for line in path.read_text().splitlines():
            line = line.split('#', 1)[0].strip()
            assert not line or re.fullmatch(r'[A-Za-z0-9_.\-]+', line), (
                f'{path.name}: {line!r} carries a version; pins belong in constraints.txt')


def test_setup_py_reads_the_same_pins():
    # setup.py calls setup() at import; read only its helpers
    source = (ROOT / 'setup.py').read_text().split('class BuildPyWithScopePth')[0]
    scope = {'__file__': str(ROOT / 'setup.py')}
    exec(compile(source, 'setup.py', 'exec'), scope)
    reqs = scope['read_requirements']('torch.txt', 'openmmlab.txt', 'runtime.txt')
    pins = _constraints()
    by_name = {Requirement(r).name.lower().replace('_', '-'): Requirement(r) for r in reqs}
    for name, pin in pins.items():
        if name in by_name:
            assert by_name[name].specifier == pin.specifier, name
    assert str(by_name['torch'].specifier) == '==2.14.1'
    assert not by_name['setuptools'].specifier.contains('81.0.0')


def test_check_env_reports_a_drifted_pin(tmp_path):
    check_env = _load(ROOT / 'tools' / 'install' / 'check_env.py', 'check_env')
    assert check_env.pin_violations(REQ / 'constraints.txt') == []
    drifted = tmp_path / 'constraints.txt'
    drifted.write_text('numpy>=2\nsetuptools<70\nnot-a-real-package-xyz==1.0\n')
    problems = check_env.pin_violations(drifted)
    assert len(problems) == 3, problems
    assert problems[0].startswith('numpy 1.') and 'numpy>=2' in problems[0]
    assert problems[1].startswith('setuptools ') and 'setuptools<70' in problems[1]
    assert 'not installed' in problems[2]


def test_cold_build_stages_run_before_the_cache_is_consulted():
    """build_mmcv.sh fetches, patches and builds the metadata of the sdist with the venv's
    own setuptools before it looks for a cached wheel, so a warm cache (CI) still fails
    when the cold path breaks."""
    text = (ROOT / 'tools' / 'install' / 'build_mmcv.sh').read_text()
    cache_check = text.index('if ls "$DEST"/mmcv-*.whl')
    for stage in ('pip download', "sed -i 's/-std=c++17/-std=c++20/g'", 'egg_info'):
        assert text.index(stage) < cache_check, stage
