"""setup_env.sh checks for free disk space before it creates or fills `.venv`.

A CI run once died after a minute inside pip (`[Errno 28] No space left on device` while
unpacking torch's CUDA libraries) because the machine's disk held old clones; the set-up
now stops first with the folder, the free and the needed space, and the fix.
"""
import shutil
import subprocess
import sys
from collections import namedtuple
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHECK = ROOT / 'tools' / 'install' / 'check_disk.py'
SETUP = ROOT / 'tools' / 'install' / 'setup_env.sh'


def _load():
    import importlib.util
    spec = importlib.util.spec_from_file_location('check_disk', CHECK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _fake_venv(tmp_path, with_torch):
    venv = tmp_path / '.venv'
    site = venv / 'lib' / 'python3.11' / 'site-packages'
    site.mkdir(parents=True)
    if with_torch:
        (site / 'torch').mkdir()
        (site / 'torch' / '__init__.py').write_text('')
    return venv


@pytest.mark.parametrize('with_torch, expected', [(False, 8.0), (True, 1.0)])
def test_needed_space_depends_on_whether_torch_is_installed(tmp_path, monkeypatch,
                                                            with_torch, expected):
    monkeypatch.delenv('CEN_MM_MIN_FREE_GB', raising=False)
    check_disk = _load()
    assert check_disk.needed_gib(_fake_venv(tmp_path, with_torch)) == expected
    monkeypatch.setenv('CEN_MM_MIN_FREE_GB', '2.5')
    assert check_disk.needed_gib(_fake_venv(tmp_path / 'b', with_torch)) == 2.5


def test_reports_folder_free_and_needed_space(tmp_path, monkeypatch):
    check_disk = _load()
    usage = namedtuple('usage', 'total used free')
    monkeypatch.setattr(check_disk.shutil, 'disk_usage',
                        lambda path: usage(100 * 2**30, 97 * 2**30, 3 * 2**30))
    monkeypatch.delenv('CEN_MM_MIN_FREE_GB', raising=False)
    venv = tmp_path / 'not-yet' / '.venv'   # a venv that does not exist yet
    problems = check_disk.check(venv, tmp_path)
    # venv and tmp are on the same file system: one message, for the nearest existing folder
    assert problems == [f'{tmp_path} (for the virtual environment) has 3.0 GiB free; '
                        'the set-up needs about 8 GiB there']
    monkeypatch.setenv('CEN_MM_MIN_FREE_GB', '3')
    assert check_disk.check(venv, tmp_path) == []
    monkeypatch.setenv('CEN_MM_MIN_FREE_GB', '0')
    monkeypatch.setattr(check_disk.shutil, 'disk_usage',
                        lambda path: usage(100 * 2**30, 100 * 2**30, 0))
    assert check_disk.check(venv, tmp_path) == []


def test_bad_override_names_the_variable(tmp_path, monkeypatch):
    monkeypatch.setenv('CEN_MM_MIN_FREE_GB', 'lots')
    with pytest.raises(SystemExit, match="CEN_MM_MIN_FREE_GB='lots' is not a number"):
        _load().needed_gib(tmp_path)


@pytest.mark.skipif(shutil.which('bash') is None, reason='needs bash')
def test_setup_env_stops_before_creating_the_venv(tmp_path):
    """The real script, copied into an empty checkout, asked for more space than any disk has."""
    install = tmp_path / 'tools' / 'install'
    install.mkdir(parents=True)
    for script in (SETUP, CHECK):
        shutil.copy(script, install / script.name)
    env = {'PATH': '/usr/bin:/bin', 'PYTHON': sys.executable,
           'CEN_MM_MIN_FREE_GB': str(10**9), 'TMPDIR': str(tmp_path)}
    result = subprocess.run(['bash', str(install / 'setup_env.sh')], env=env,
                            capture_output=True, text=True, timeout=60)
    if 'needs Python 3.11' in result.stderr:
        pytest.skip('the test interpreter is not Python 3.11')
    assert result.returncode == 1, result.stderr
    assert '[setup_env] FAILED at step: free disk space' in result.stderr
    assert f'{tmp_path} (for the virtual environment) has ' in result.stderr
    assert 'the set-up needs about 1e+09 GiB there' in result.stderr
    assert 'CEN_MM_MIN_FREE_GB=0' in result.stderr
    assert not (tmp_path / '.venv').exists()
