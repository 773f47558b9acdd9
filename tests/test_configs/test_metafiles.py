"""model-index.yml + metafiles: every config listed once, found by mmengine's metafile
reader (what the inferencers and `cen_mm::` bases use), paper numbers as results."""
import glob
import os.path as osp

import pytest
from mmengine.infer.infer import BaseInferencer

from tests.fixtures.tools import ROOT


def _models(root):
    return list(BaseInferencer._get_models_from_metafile(root))


@pytest.mark.parametrize('root', [ROOT, osp.join(ROOT, 'cen_mm', '.mim')])
def test_every_config_listed_once_with_existing_file(root):
    models = _models(root)
    configs = [m['Config'] for m in models]
    assert len(configs) == len(set(configs))
    names = [m['Name'] for m in models]
    assert len(names) == len(set(names))
    for model in models:
        assert osp.isfile(osp.join(root, model['Config'])), model['Config']
        assert 'Weights' in model and model['Metadata']['Ours'] is None
    # the paper configs, their ablations and the demos (configs/cen/demo_ablations/
    # are the demo's own ablation variants, not listed)
    on_disk = sorted(
        osp.relpath(p, ROOT)
        for pattern in ('cen/*.py', 'cen/ablations/*.py', 'cen_pix2pix/*.py')
        for p in glob.glob(osp.join(ROOT, 'configs', pattern)))
    assert sorted(configs) == on_disk


def test_paper_numbers():
    models = {m['Name']: m for m in _models(ROOT)}
    r101 = models['cen_refinenet_r101_nyud']['Results'][0]
    assert r101['Dataset'] == 'NYUDv2' and r101['Metrics']['mIoU'] == 51.1
    assert r101['Metrics']['mIoU(ms+flip)'] == 51.7
    fusion = models['cen-pix2pix_fusion_rgb+edge-to-depth_taskonomy']['Results'][0]
    assert fusion['Metrics'] == {'MAE': 2.75, 'MSE': 6.6}
    assert models['cen_demo_refinenet_r18_synthrgbd']['Results'][0]['Metrics'] == {}
    cycle = models['cen-pix2pix_cycle-dec1_rgb+shade+texture_taskonomy']['Results'][0]
    assert cycle['Metrics']['RGB FID'] == 61.25 and cycle['Metrics']['Texture MAE'] == 1.62
    both = models['cen-pix2pix_mm-multitask-cen-enc+dec_texture+shade-to-rgb+depth'
                  '_taskonomy']['Results'][0]['Metrics']
    assert both == {'RGB FID': 60.26, 'RGB KID': 1.57, 'Depth MAE': 1.58,
                    'Depth MSE': 2.94}
    # every Taskonomy config carries the paper's numbers
    for name, model in models.items():
        if model['Results'][0]['Dataset'] == 'Taskonomy':
            assert model['Results'][0]['Metrics'], name


def test_cen_mm_base_still_resolves_through_the_index(tmp_path):
    """mmengine reads .mim/model-index.yml when resolving `cen_mm::` bases."""
    from mmengine.config import Config
    from mmengine.config.utils import MODULE2PACKAGE
    MODULE2PACKAGE.setdefault('cen_mm', 'cen_mm.version')
    child = tmp_path / 'child.py'
    child.write_text("_base_ = ['cen_mm::cen/demo_refinenet_r18_synthrgbd.py']\n")
    cfg = Config.fromfile(str(child))
    assert cfg.model.type == 'CENEncoderDecoder'


def test_mim_search_reads_the_index():
    """`mim search cen_mm` (openmim is optional: `pip install openmim`)."""
    search = pytest.importorskip('mim.commands.search')
    table = search.get_model_info('cen_mm')
    row = table.loc['cen_refinenet_r101_nyud']
    assert row['nyudv2/miou'] == 51.1 and row['config'] == \
        'configs/cen/refinenet_r101_nyud.py'
    assert len(table) == len(_models(ROOT))
