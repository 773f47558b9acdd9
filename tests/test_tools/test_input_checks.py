"""Bad inputs are one clear error (or a loud, specific warning) naming the file and
the fix: cen2mmseg sources/destinations, depth in the wrong unit, missing data,
``--cfg-options data_root``, converters killed earlier."""
import importlib.util
import os.path as osp
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config

from cen_mm.engine.runner import MissingDataError
from cen_mm.seg.datasets.conversion import NYUDV2_SPEC, ConversionError, convert
from cen_mm.utils import apply_data_root
from tests.fixtures.processes import still_running, wait_for_spawned_children
from tests.fixtures.rgbd_data import depth_raw_of, write_cmx_source
from tests.fixtures.tools import ROOT, TINY_SEG, load_tool, tool_env

CONVERTER = Path(ROOT) / 'tools/model_converters/cen2mmseg.py'


@pytest.fixture(scope='module')
def cen2mmseg():
    spec = importlib.util.spec_from_file_location('cen2mmseg_safety', CONVERTER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ------------------------------------------------------------------ cen2mmseg
def test_cen2mmseg_refuses_empty_segmenter(cen2mmseg, tmp_path, capsys):
    src = tmp_path / 'empty.pth.tar'
    torch.save({'segmenter': {}, 'epoch_start': 3}, src)
    assert cen2mmseg.main([str(src), str(tmp_path / 'out.pth')]) == 1
    err = capsys.readouterr().err
    assert "'segmenter' entry is empty" in err and 'nothing to convert' in err
    assert not (tmp_path / 'out.pth').exists()


def test_cen2mmseg_missing_or_non_checkpoint_source(cen2mmseg, tmp_path, capsys):
    assert cen2mmseg.main([str(tmp_path / 'nope.pth'), str(tmp_path / 'o.pth')]) == 1
    err = capsys.readouterr().err
    assert 'nope.pth: no such file' in err and '--unsafe-load' not in err
    text = tmp_path / 'readme.pth'
    text.write_text('this is not a checkpoint')
    assert cen2mmseg.main([str(text), str(tmp_path / 'o.pth')]) == 1
    err = capsys.readouterr().err
    assert 'readme.pth is truncated or not a torch checkpoint' in err
    assert '--unsafe-load' not in err


def test_cen2mmseg_destinations(cen2mmseg, tmp_path, capsys):
    src = tmp_path / 'official.pth.tar'
    torch.save({'segmenter': {'module.alpha': torch.ones(2)}}, src)
    dst = tmp_path / 'new' / 'folder' / 'converted.pth'  # created
    assert cen2mmseg.main([str(src), str(dst)]) == 0
    assert torch.equal(torch.load(dst, weights_only=True)['state_dict']['ensemble.alpha'],
                       torch.ones(2))
    assert [p.name for p in dst.parent.iterdir()] == ['converted.pth']  # no temp left
    blocker = tmp_path / 'file'
    blocker.write_text('x')
    assert cen2mmseg.main([str(src), str(blocker / 'sub' / 'c.pth')]) == 1
    err = capsys.readouterr().err
    assert 'cannot create the destination folder' in err and 'a parent is a file' in err


# ---------------------------------------------------------------- depth units
def _millimetres(i):
    """NYUDv2 depth saved in millimetres: ~2-3 m as 2000-3000."""
    d = depth_raw_of(i).astype(np.int64) // 5 * 2  # 1 m at /5000 -> 2000 (2 m)
    return d.astype(np.uint16)


def test_converter_refuses_millimetre_depth_at_nyud_scale(tmp_path):
    src = write_cmx_source(str(tmp_path / 'src'), dict(train=[1, 2, 3], test=[4]),
                           num_classes=40, depth_raw=_millimetres)
    with pytest.raises(ConversionError, match=r'median depth decodes to 0\.\d\d m .*'
                       r'look like millimetres: pass --depth-encoding linear '
                       r'--depth-scale 0\.001'):
        convert(src, str(tmp_path / 'out'), NYUDV2_SPEC)
    assert not osp.exists(tmp_path / 'out')
    meta = convert(src, str(tmp_path / 'out'), NYUDV2_SPEC, depth_encoding='linear',
                   depth_scale=0.001)
    assert meta['depth_encoding'] == dict(type='linear', scale=0.001)
    assert not any('WARNING' in n for n in meta['notes'])


@pytest.mark.e2e
def test_dataset_warns_on_implausible_depth(tmp_path, monkeypatch):
    import cen_mm.seg.datasets.rgbd_dataset as rgbd_dataset
    from mmseg.registry import DATASETS
    src = write_cmx_source(str(tmp_path / 'src'), dict(train=[1, 2, 3], test=[4]),
                           num_classes=40, depth_raw=_millimetres)
    root = str(tmp_path / 'nyud')
    convert(src, root, NYUDV2_SPEC, depth_encoding='linear', depth_scale=0.001)
    logged = []
    monkeypatch.setattr(rgbd_dataset, 'print_log',
                        lambda msg, **kw: logged.append(msg))
    DATASETS.build(dict(type='NYUDv2Dataset', data_root=root, pipeline=[]))
    assert logged == []  # meta.json's encoding: plausible
    DATASETS.build(dict(type='NYUDv2Dataset', data_root=root, pipeline=[],
                        depth_encoding=dict(type='linear', scale=1 / 5000)))
    assert len(logged) == 1 and 'median depth decodes to 0.' in logged[0]
    assert 'depth/train' in logged[0] and "scale=0.001" in logged[0]


# --------------------------------------------------------------- missing data
def test_missing_data_root_is_one_clear_error(tmp_path):
    from mmseg.registry import DATASETS
    missing = str(tmp_path / 'not_converted')
    with pytest.raises(MissingDataError, match=f"data_root '{missing}' does not exist.*"
                       'tools/dataset_converters/nyud.py'):
        DATASETS.build(dict(type='NYUDv2Dataset', data_root=missing, pipeline=[]))


def test_cfg_options_data_root_reaches_the_dataloaders(tmp_path):
    cfg = Config.fromfile(osp.join(ROOT, 'configs/cen/refinenet_r101_nyud.py'))
    before = cfg.train_dataloader.dataset.data_root
    options = {'data_root': str(tmp_path / 'elsewhere')}
    cfg.merge_from_dict(options)
    assert cfg.train_dataloader.dataset.data_root == before  # mmengine alone: ignored
    apply_data_root(cfg, options)
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        assert cfg[loader].dataset.data_root == str(tmp_path / 'elsewhere'), loader
    # an explicit per-loader option wins
    cfg = Config.fromfile(TINY_SEG)
    options = {'data_root': 'a', 'test_dataloader.dataset.data_root': 'b'}
    cfg.merge_from_dict(options)
    apply_data_root(cfg, options)
    assert cfg.train_dataloader.dataset.data_root == 'a'
    assert cfg.test_dataloader.dataset.data_root == 'b'


@pytest.mark.e2e
def test_work_dir_under_a_file_is_one_error_line(tmp_path):
    from tests.fixtures.tools import train
    (tmp_path / 'afile').write_text('x')
    proc = train(TINY_SEG, tmp_path / 'afile' / 'work', check=False)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1] == (
        f"error: work dir {tmp_path / 'afile' / 'work'} cannot be created: it or one "
        'of its parents is a file; pass another --work-dir')


# ------------------------------------------------------- interrupted converters
def nyud_main(argv):
    """``tools/dataset_converters/nyud.py``'s main, in-process."""
    return load_tool('tools/dataset_converters/nyud.py').main(argv)


def _dead_pid():
    proc = subprocess.Popen(['true'])
    proc.wait()
    return proc.pid


def test_converter_cleans_what_a_killed_run_left(tmp_path):
    src = write_cmx_source(str(tmp_path / 'src'), dict(train=[1, 2], test=[3]),
                           num_classes=40)
    out = tmp_path / 'nyud'
    stale = tmp_path / f'.nyud.incomplete-{_dead_pid()}'
    (stale / 'images').mkdir(parents=True)
    # killed between the two renames of --overwrite: only the backup holds the data
    backup = tmp_path / f'.nyud.old-{_dead_pid()}'
    backup.mkdir()
    (backup / 'meta.json').write_text('{}')
    assert nyud_main([src, '-o', str(out), '--overwrite']) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ['nyud', 'src']
    assert (out / 'meta.json').read_text() != '{}'  # restored, then replaced


def test_converter_file_as_parent_destination(tmp_path, capsys):
    src = write_cmx_source(str(tmp_path / 'src'), dict(train=[1], test=[2]),
                           num_classes=40)
    (tmp_path / 'afile').write_text('x')
    assert nyud_main([src, '-o', str(tmp_path / 'afile' / 'nyud')]) == 1
    err = capsys.readouterr().err
    assert f"{tmp_path / 'afile'} is a file, not a folder" in err


_SLOW_CONVERT = textwrap.dedent('''
    import runpy, sys
    import cen_mm.seg.datasets.conversion as conversion
    from tests.fixtures.progress_tasks import slow_convert_sample
    conversion.convert_sample = slow_convert_sample  # importable by spawned workers
    sys.argv = ['tools/dataset_converters/nyud.py'] + sys.argv[1:]
    runpy.run_path(sys.argv[0], run_name='__main__')
''')


@pytest.mark.e2e
def test_sigterm_ends_converter_workers_and_removes_temp(tmp_path):
    src = write_cmx_source(str(tmp_path / 'src'), dict(train=list(range(12)),
                                                       test=[20]), num_classes=40)
    proc = subprocess.Popen([sys.executable, '-c', _SLOW_CONVERT, src, '-o',
                             str(tmp_path / 'nyud'), '--nproc', '2'], cwd=ROOT,
                            env=tool_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    workers = wait_for_spawned_children(proc.pid, 2)
    assert len(workers) == 2, 'the converter did not start its 2 workers'
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=60)
    assert proc.returncode != 0
    time.sleep(0.5)
    assert still_running(workers) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ['src']
