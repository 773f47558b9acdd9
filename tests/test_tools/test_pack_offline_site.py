"""tools/analysis_tools/pack_offline_site.py: the archive for an offline GPU machine
holds the installed files with their metadata, no compiled files, and a stand-in for
mmcv's ops that raises when an op is called."""
import importlib.util
import os.path as osp
import sys
import tarfile

import pytest

ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
TOOL = osp.join(ROOT, 'tools', 'analysis_tools', 'pack_offline_site.py')


def load_tool():
    spec = importlib.util.spec_from_file_location('pack_offline_site', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_packed_files_of_a_distribution():
    tool = load_tool()
    names = [arcname for _, arcname in tool.packed_files('addict')]
    assert 'addict/__init__.py' in names
    assert any(n.startswith('addict-') and n.endswith('.dist-info/METADATA')
               for n in names)
    assert not any('__pycache__' in n or n.endswith('.pyc') for n in names)
    # modelindex's RECORD omits its package: added from EXTRA_PACKAGES
    assert 'modelindex/__init__.py' in [a for _, a in tool.packed_files('modelindex')]
    with pytest.raises(SystemExit, match='not installed'):
        tool.packed_files('no-such-distribution-cen-mm')


@pytest.mark.e2e
def test_archive_imports_and_mmcv_ops_raise(tmp_path):
    tool = load_tool()
    out = tmp_path / 'site.tar.gz'
    tool.main([str(out)])
    with tarfile.open(out) as archive:
        names = archive.getnames()
        archive.extractall(tmp_path / 'site', filter='data')
    assert not any(n.endswith('.so') for n in names)
    assert 'mmseg/__init__.py' in names and 'mmcv/_ext.py' in names
    assert not any(n.split('/')[0] in ('tests', 'yapftests') for n in names)
    spec = importlib.util.spec_from_file_location(
        'stand_in_ext', tmp_path / 'site' / 'mmcv' / '_ext.py')
    ext = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ext)
    assert callable(ext.nms)  # what mmcv's ext_loader checks
    with pytest.raises(RuntimeError, match="mmcv op 'nms' is not compiled"):
        ext.nms(None)
    assert sys.modules.get('stand_in_ext') is None
