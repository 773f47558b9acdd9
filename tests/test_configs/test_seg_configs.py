"""The segmentation configs of configs/cen/: the papers' hyper-parameters (NeurIPS'20
§4.1, DESIGN §1), model sizes against the paper's Table 2, datasets built from fixture
downloads converted with our converters, and the Table 1 ablations differing from the
full CEN exactly in their row's setting (checked on the built models and hooks)."""
import glob
import os.path as osp
import re

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import HOOKS, DefaultScope

import cen_mm  # noqa: F401
from cen_mm.core import ModalityNorm, iter_exchanging_norms
from cen_mm.engine.hooks.sparsity_hook import penalized_gammas
from cen_mm.models.backbones.modality_conv import ModalityConv2d
from mmseg.registry import DATASETS, MODELS
from tests.fixtures.converted_rgbd import (NYUD_CLASSES, SUNRGBD_CLASSES,
                                           converted_nyud, converted_sunrgbd,
                                           sun_metres_of)
from tests.fixtures.rgbd_data import HOLE, SQUARE, depth_raw_of, label_of, rgb_of
from tests.fixtures.tools import ROOT

CEN_DIR = osp.join(ROOT, 'configs', 'cen')
ABLATION_DIR = osp.join(CEN_DIR, 'ablations')

# config -> (decode head, encoder depth, dataset, epochs): NeurIPS'20 Table 3 / §4.1
PAPER_CONFIGS = {
    'refinenet_r101_nyud': ('RefineNetHead', 101, 'NYUDv2Dataset', 300),
    'refinenet_r152_nyud': ('RefineNetHead', 152, 'NYUDv2Dataset', 450),
    'pspnet_r101_nyud': ('PSPHead', 101, 'NYUDv2Dataset', 300),
    'pspnet_r152_nyud': ('PSPHead', 152, 'NYUDv2Dataset', 450),
    'refinenet_r101_sunrgbd': ('RefineNetHead', 101, 'SUNRGBDDataset', 60),
    'refinenet_r152_sunrgbd': ('RefineNetHead', 152, 'SUNRGBDDataset', 60),
    'pspnet_r152_sunrgbd': ('PSPHead', 152, 'SUNRGBDDataset', 60),
}
NUM_CLASSES = dict(NYUDv2Dataset=NYUD_CLASSES, SUNRGBDDataset=SUNRGBD_CLASSES)

# NeurIPS'20 Table 1 and supp. Table 7 (= TPAMI'23 Table 1), RefineNet-R101, NYUDv2,
# single-scale test
ABLATIONS = {
    # file suffix: ((convs, BNs, l1, exchange), mIoU (RGB, depth, ensemble))
    'convs-unshared_bn-unshared_l1-none_exchange-no':
        (('unshared', 'unshared', None, False), (45.5, 35.8, 47.6)),
    'convs-shared_bn-shared_l1-none_exchange-no':
        (('shared', 'shared', None, False), (43.7, 35.5, 45.2)),
    'convs-shared_bn-unshared_l1-none_exchange-no':
        (('shared', 'unshared', None, False), (46.2, 38.4, 48.0)),
    'convs-unshared_bn-unshared_l1-half_exchange-no':
        (('unshared', 'unshared', 'half', False), (45.1, 35.5, 47.3)),
    'convs-unshared_bn-unshared_l1-half_exchange-yes':
        (('unshared', 'unshared', 'half', True), (46.5, 41.6, 48.5)),
    'convs-shared_bn-unshared_l1-half_exchange-no':
        (('shared', 'unshared', 'half', False), (46.0, 38.1, 47.7)),
    'convs-shared_bn-unshared_l1-half_exchange-yes':
        (('shared', 'unshared', 'half', True), (49.7, 45.1, 51.1)),
    'convs-unshared_bn-unshared_l1-all_exchange-no':
        (('unshared', 'unshared', 'all', False), (44.6, 35.3, 46.6)),
    'convs-unshared_bn-unshared_l1-all_exchange-yes':
        (('unshared', 'unshared', 'all', True), (46.8, 41.7, 49.1)),
    'convs-shared_bn-unshared_l1-all_exchange-no':
        (('shared', 'unshared', 'all', False), (46.1, 37.9, 47.5)),
    'convs-shared_bn-unshared_l1-all_exchange-yes':
        (('shared', 'unshared', 'all', True), (48.6, 39.0, 49.8)),
}
# channels of the BN after each 3x3 conv (the exchanging ones) of a ResNet-101:
# stages of 3, 4, 23, 3 bottlenecks with 64, 128, 256, 512 mid channels
R101_EXCHANGE_CHANNELS = [64] * 3 + [128] * 4 + [256] * 23 + [512] * 3


def load(name: str) -> Config:
    directory = ABLATION_DIR if name.startswith('refinenet_r101_nyud_') else CEN_DIR
    return Config.fromfile(osp.join(directory, name + '.py'))


def build_model(cfg: Config, device='meta'):
    with DefaultScope.overwrite_default_scope('mmseg'), torch.device(device):
        return MODELS.build(cfg.model)


def hook_cfgs(cfg: Config) -> dict:
    return {h['type']: h for h in cfg.get('custom_hooks', [])}


def num_params(module) -> int:
    return sum(p.numel() for p in module.parameters())


# --------------------------------------------------------------------------------------
# The paper configs
# --------------------------------------------------------------------------------------
def test_every_paper_and_ablation_config_exists():
    names = {osp.basename(p)[:-3] for p in glob.glob(osp.join(CEN_DIR, '*.py'))}
    assert set(PAPER_CONFIGS) <= names
    ablations = {osp.basename(p)[len('refinenet_r101_nyud_'):-3]
                 for p in glob.glob(osp.join(ABLATION_DIR, '*.py'))}
    assert ablations == set(ABLATIONS)


@pytest.mark.parametrize('name', sorted(PAPER_CONFIGS))
def test_paper_hyper_parameters(name):
    head, depth, dataset, epochs = PAPER_CONFIGS[name]
    cfg = load(name)
    assert cfg.default_scope == 'mmseg' and 'cen_mm' in cfg.custom_imports.imports

    backbone = cfg.model.backbone
    assert backbone.type == 'CENResNet' and backbone.depth == depth
    assert tuple(backbone.in_channels) == (3, 1)  # RGB + raw depth, 4 input channels
    assert backbone.norm_eval is True  # BN statistics frozen, gamma/beta trained
    assert backbone.exchange is True and backbone.exchange_mode == 'subpart'
    assert backbone.exchange_threshold == 2e-2  # theta
    assert backbone.get('shared_convs', True) and not backbone.get('shared_norms')
    assert backbone.init_cfg == dict(type='Pretrained',
                                     checkpoint=f'torchvision://resnet{depth}')
    assert cfg.model.decode_head.type == head
    classes = NUM_CLASSES[dataset]
    assert cfg.model.decode_head.num_classes == classes
    if head == 'PSPHead':
        assert cfg.model.auxiliary_head.num_classes == classes

    # 4-channel input: ImageNet mean/std on RGB, raw depth in metres (mean 0, std 1)
    pre = cfg.model.data_preprocessor
    assert pre.type == 'SegDataPreProcessor' and pre.bgr_to_rgb is False
    assert list(pre.mean) == [123.675, 116.28, 103.53, 0.0]
    assert list(pre.std) == [58.395, 57.12, 57.375, 1.0]
    assert tuple(pre.size) == tuple(cfg.crop_size)

    # SGD 0.9 / wd 1e-5 / batch 6; lr halved at 1/3 and 2/3 of the epochs
    optimizer = cfg.optim_wrapper.optimizer
    assert (optimizer.type, optimizer.lr, optimizer.momentum,
            optimizer.weight_decay) == ('SGD', 5e-4, 0.9, 1e-5)
    assert cfg.train_dataloader.batch_size == 6
    assert cfg.auto_scale_lr == dict(enable=False, base_batch_size=6)
    assert cfg.train_cfg.type == 'EpochBasedTrainLoop'
    assert cfg.train_cfg.max_epochs == epochs
    (scheduler, ) = cfg.param_scheduler
    assert scheduler.type == 'MultiStepLR' and scheduler.by_epoch
    assert scheduler.gamma == 0.5
    assert scheduler.milestones == [epochs // 3, 2 * epochs // 3]

    hooks = hook_cfgs(cfg)
    assert set(hooks) == {'CENSparsityHook', 'ExchangeStatsHook'}
    sparsity = hooks['CENSparsityHook']
    assert sparsity.lambda_ == 5e-3
    assert sparsity.get('penalty_channels', 'subpart') == 'subpart'
    for hook in cfg.custom_hooks:
        HOOKS.build(dict(hook))  # valid arguments

    # single-scale validation on whole images; --tta: multi-scale + flip
    assert cfg.model.test_cfg.mode == 'whole'
    test_types = [t['type'] for t in cfg.val_dataloader.dataset.pipeline]
    assert not {'Resize', 'RandomResize', 'RandomFlip'} & set(test_types)
    assert cfg.tta_model.type == 'SegTTAModel'
    (tta, ) = [t for t in cfg.tta_pipeline if t['type'] == 'TestTimeAug']
    scales = {t['scale_factor'] for t in tta['transforms'][0]}
    assert len(scales) >= 3 and 1.0 in scales
    assert sorted(t['prob'] for t in tta['transforms'][1]) == [0.0, 1.0]
    assert cfg.visualizer.type == 'RGBDSegLocalVisualizer'  # mmseg's, multi-panel
    assert cfg.train_dataloader.dataset.type == dataset


@pytest.mark.e2e
@pytest.mark.parametrize('name', sorted(PAPER_CONFIGS))
def test_encoder_and_decoder_learning_rates(name):
    """lr 5e-4 for every encoder parameter, 3e-3 for every other one (decoder, heads,
    ensemble weights), as the official code's two optimisers."""
    cfg = load(name)
    model = build_model(cfg)
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    lr_of = {}
    for group in wrapper.optimizer.param_groups:
        for p in group['params']:
            lr_of[id(p)] = group['lr']
    seen = set()
    for pname, p in model.named_parameters():
        expected = 5e-4 if pname.startswith('backbone.') else 3e-3
        assert lr_of[id(p)] == pytest.approx(expected, rel=1e-12), pname
        seen.add(pname.split('.')[0])
    assert {'backbone', 'decode_head', 'ensemble'} <= seen


def test_model_sizes_match_the_paper():
    """NeurIPS'20 Table 2: RefineNet-R101 has 118.1M parameters as one (uni-modal)
    network and 118.2M as CEN (private BNs are the only extra parameters)."""
    cen = build_model(load('refinenet_r101_nyud'))
    shared = build_model(load(
        'refinenet_r101_nyud_convs-shared_bn-shared_l1-none_exchange-no'))
    assert round(num_params(cen) / 1e6, 1) == 118.2
    assert round(num_params(shared) / 1e6, 1) == 118.1
    # the shared-everything encoder is exactly torchvision's ResNet-101 without fc
    torchvision = pytest.importorskip('torchvision')
    with torch.device('meta'):
        reference = torchvision.models.resnet101()
    assert num_params(shared.backbone) == num_params(reference) - num_params(
        reference.fc)


# --------------------------------------------------------------------------------------
# Datasets of the configs on converted fixture downloads
# --------------------------------------------------------------------------------------
@pytest.fixture(scope='module')
def data_roots(tmp_path_factory):
    tmp = str(tmp_path_factory.mktemp('rgbd'))
    return {('NYUDv2Dataset', 'cen'): converted_nyud(tmp, 'cen'),
            ('NYUDv2Dataset', 'cmx'): converted_nyud(tmp, 'cmx'),
            ('SUNRGBDDataset', 'cmx'): converted_sunrgbd(tmp)}


def _index_of(img_path: str) -> int:
    return int(re.findall(r'\d+', osp.basename(img_path))[-1])


DATASET_CASES = [(name, layout) for name, (_, _, ds, _) in sorted(PAPER_CONFIGS.items())
                 for layout in (('cen', 'cmx') if ds == 'NYUDv2Dataset' else ('cmx', ))]


@pytest.mark.e2e
@pytest.mark.parametrize('name,layout', DATASET_CASES)
def test_config_datasets_on_converted_downloads(name, layout, data_roots):
    cfg = load(name)
    dataset_type = PAPER_CONFIGS[name][2]
    root = data_roots[(dataset_type, layout)]
    with DefaultScope.overwrite_default_scope('mmseg'):
        train = DATASETS.build(dict(cfg.train_dataloader.dataset, data_root=root))
        val = DATASETS.build(dict(cfg.val_dataloader.dataset, data_root=root))
    assert type(train).__name__ == type(val).__name__ == dataset_type
    assert (len(train), len(val)) == (4, 2)
    assert len(val.metainfo['classes']) == cfg.model.decode_head.num_classes
    channels = sum(cfg.model.backbone.in_channels)
    assert sum(val.metainfo['modality_channels']) == channels == len(
        cfg.model.data_preprocessor.mean)

    # single-scale test sample: the stored pixels, RGB then depth in metres
    sample = val[0]
    i = _index_of(sample['data_samples'].img_path)
    inputs = sample['inputs'].numpy()
    assert inputs.shape == (4, 24, 32)
    if dataset_type == 'SUNRGBDDataset':
        metres = sun_metres_of(i)
    else:
        metres = depth_raw_of(i) / 5000.0
    np.testing.assert_allclose(inputs[3], metres, rtol=1e-5, atol=1e-6)
    assert (inputs[3][HOLE] == 0).all()
    rgb = np.transpose(inputs[:3], (1, 2, 0)).astype(int)
    if layout == 'cen':  # PNG: exact; the CMX layout ships JPEG
        np.testing.assert_array_equal(rgb, rgb_of(i))
    else:
        assert np.abs(rgb - rgb_of(i)).mean() < 3
    gt = sample['data_samples'].gt_sem_seg.data[0].numpy()
    assert (gt[SQUARE] == label_of(i, NUM_CLASSES[dataset_type])[SQUARE]).all()

    # training sample: augmented, still 4 channels with the label aligned in size
    sample = train[0]
    assert sample['inputs'].shape[0] == 4
    gt_shape = sample['data_samples'].gt_sem_seg.data.shape[1:]
    assert gt_shape == sample['inputs'].shape[1:]
    assert max(sample['inputs'].shape[1:]) <= max(cfg.crop_size)


# --------------------------------------------------------------------------------------
# Ablations (NeurIPS'20 Table 1, supp. Table 7)
# --------------------------------------------------------------------------------------
def _flat(d, prefix=''):
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flat(v, f'{prefix}{k}.'))
        else:
            out[f'{prefix}{k}'] = v
    return out


@pytest.fixture(scope='module')
def full_cen_cfg():
    return load('refinenet_r101_nyud')


@pytest.mark.parametrize('suffix', sorted(ABLATIONS))
def test_ablation_differs_only_in_its_row(suffix, full_cen_cfg):
    (convs, bns, l1, exchange), (rgb, depth, ens) = ABLATIONS[suffix]
    cfg = load('refinenet_r101_nyud_' + suffix)
    base = full_cen_cfg
    # the comment names the paper's numbers of the row
    with open(osp.join(ABLATION_DIR, f'refinenet_r101_nyud_{suffix}.py')) as f:
        comment = ' '.join(line.strip().lstrip('# ') for line in f
                           if line.startswith('#'))
    assert f'RGB {rgb}, depth {depth}, ensemble {ens}' in comment

    # same data, schedule and runtime as the full CEN; the model differs only in
    # the backbone switches of the row
    ignore = {'model', 'custom_hooks', 'filename', 'text'}
    assert ({k: v for k, v in cfg.to_dict().items() if k not in ignore}
            == {k: v for k, v in base.to_dict().items() if k not in ignore})
    ours, theirs = _flat(cfg.model.to_dict()), _flat(base.model.to_dict())
    changed = {k for k in ours.keys() | theirs.keys() if ours.get(k) != theirs.get(k)}
    assert changed <= {'backbone.shared_convs', 'backbone.shared_norms',
                       'backbone.exchange', 'backbone.exchange_threshold',
                       'backbone.exchange_mode', 'shared_heads'}
    # unshared = separate networks, decoder included (issue #17)
    assert cfg.model.get('shared_heads', True) == (convs == 'shared')

    model = build_model(cfg)
    backbone = model.backbone
    unshared = [m for m in backbone.modules() if isinstance(m, ModalityConv2d)]
    bare = [m for name, m in backbone.named_modules()
            if isinstance(m, torch.nn.Conv2d) and '.convs.' not in f'.{name}']
    if convs == 'unshared':
        # every conv of the encoder has one copy per modality
        # 1 stem + 3 x 33 blocks + 4 downsample convs
        assert not bare and len(unshared) == 104
        assert all(len(m.convs) == 2 for m in unshared)
    else:
        assert not unshared and len(bare) == 104
    norms = [m for m in backbone.modules() if isinstance(m, ModalityNorm)]
    assert len(norms) == 104  # one per conv
    assert {len(n.norms) for n in norms} == ({1} if bns == 'shared' else {2})

    exchanging = [n for _, n in iter_exchanging_norms(model)]
    hooks = hook_cfgs(cfg)
    if l1 is None and not exchange:
        assert not exchanging and not hooks
    else:
        assert [n.num_features for n in exchanging] == R101_EXCHANGE_CHANNELS
        theta = 2e-2 if exchange else 0.0
        mode = 'all' if (l1 == 'all' and exchange) else 'subpart'
        assert all(n.threshold == theta and n.exchange_mode == mode for n in exchanging)
        assert set(hooks) == {'CENSparsityHook', 'ExchangeStatsHook'}
        penalty = hooks['CENSparsityHook'].get('penalty_channels', 'subpart')
        assert penalty == {'half': 'subpart', 'all': 'all'}[l1]
        assert hooks['CENSparsityHook'].lambda_ == 5e-3


@pytest.fixture(scope='module')
def cpu_backbones():
    """CPU encoders (real ResNet-101, random init) of three rows, built once."""
    out = {}
    for suffix in ('convs-shared_bn-unshared_l1-half_exchange-yes',
                   'convs-shared_bn-unshared_l1-half_exchange-no',
                   'convs-shared_bn-unshared_l1-all_exchange-yes'):
        cfg = load('refinenet_r101_nyud_' + suffix)
        backbone_cfg = dict(cfg.model.backbone, init_cfg=None)
        with DefaultScope.overwrite_default_scope('mmseg'):
            out[suffix] = (MODELS.build(backbone_cfg), hook_cfgs(cfg))
    return out


@pytest.mark.parametrize('suffix,expected_exchange,penalised', [
    ('convs-shared_bn-unshared_l1-half_exchange-yes', 'owner', 'owner'),
    ('convs-shared_bn-unshared_l1-half_exchange-no', 'none', 'owner'),
    ('convs-shared_bn-unshared_l1-all_exchange-yes', 'all', 'all'),
])
@pytest.mark.e2e
def test_ablation_exchange_and_penalty_behaviour(suffix, expected_exchange, penalised,
                                                 cpu_backbones):
    """With every gamma driven to 0: the full CEN exchanges exactly each stream's own
    sub-part, 'l1 without exchange' (theta = 0) exchanges nothing, the all-channel row
    exchanges everything; the l1 hook penalises the sub-parts or all channels."""
    backbone, hooks = cpu_backbones[suffix]
    layers = [n for _, n in iter_exchanging_norms(backbone)]
    with torch.no_grad():
        for n in layers:  # at init (gamma = 1) nothing is exchanged
            assert not n.exchange_mask().any()
        saved = [[norm.weight.clone() for norm in n.norms] for n in layers]
        for n in layers:
            for norm in n.norms:
                norm.weight.zero_()
    try:
        for n in layers:
            mask = n.exchange_mask()
            reference = {'owner': n.owner_mask, 'none': torch.zeros_like(mask),
                         'all': torch.ones_like(mask)}[expected_exchange]
            assert torch.equal(mask, reference)
            # sub-parts: stream 0 owns the first half, stream 1 the second
            half = n.num_features // 2
            assert n.owner_mask[0, :half].all() and not n.owner_mask[0, half:].any()
    finally:
        with torch.no_grad():
            for n, weights in zip(layers, saved):
                for norm, w in zip(n.norms, weights):
                    norm.weight.copy_(w)

    sparsity = hooks['CENSparsityHook']
    entries = penalized_gammas(backbone, sparsity.lambda_,
                               sparsity.get('penalty_channels', 'subpart'))
    assert len(entries) == 2 * len(R101_EXCHANGE_CHANNELS)
    total = sum(R101_EXCHANGE_CHANNELS)  # 8128
    counted = sum(e.count for e in entries)
    assert counted == (total if penalised == 'owner' else 2 * total)
