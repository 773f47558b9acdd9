"""CENPix2Pix training a FusionUnetGenerator (translation fusion baselines): the
alignment loss reaches the generator's losses, the L1 term counts the one fused output
once per input (no ensemble term), no α is logged, test outputs are the fused image."""
import copy

import pytest
import torch
from mmengine import MessageHub
from mmengine.dataset import pseudo_collate
from mmengine.optim import OptimWrapper, OptimWrapperDict
from mmengine.registry import DefaultScope

import cen_mm.translation  # noqa: F401
from cen_mm.translation.datasets import SynthMultiDomainDataset
from mmagic.registry import MODELS

TASKS = [dict(inputs=['rgb', 'edge_occlusion'], target='depth_zbuffer')]


@pytest.fixture(autouse=True, scope='module')
def mmagic_scope_single_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    with DefaultScope.overwrite_default_scope('mmagic'):
        yield
    torch.set_num_threads(threads)


def build(fusion):
    model = MODELS.build(dict(
        type='CENPix2Pix', tasks=TASKS,
        generator=dict(type='FusionUnetGenerator', num_down=4, base_channels=4,
                       use_dropout=False, fusion=fusion, fusion_layers='all'),
        discriminator=dict(type='CENPatchDiscriminator', in_channels=6,
                           base_channels=4, num_conv=2),
        loss_config=dict(ensemble_loss=False), test_in_train_mode=False))
    model.init_weights()
    return model


@pytest.fixture(scope='module')
def data(n=2):
    """Two synthetic samples (rendered once)."""
    pipeline = [dict(type='LoadSynthDomains', size=16), dict(type='PackDomains')]
    ds = SynthMultiDomainDataset(num_samples=n, domains=['rgb', 'edge_occlusion',
                                                         'depth_zbuffer'],
                                 seed=0, pipeline=pipeline)
    return pseudo_collate([ds[i] for i in range(n)])


def frozen_wrappers(model):
    return OptimWrapperDict(**{
        name: OptimWrapper(torch.optim.SGD(getattr(model, name).parameters(), lr=0.0))
        for name in ('generators', 'discriminators')})


@pytest.mark.parametrize('fusion', ['AlignFusion', 'ConcatFusion'])
def test_train_step_losses(fusion, data):
    model = build(dict(type=fusion))
    MessageHub.get_current_instance().update_info('iter', 0)
    log_vars = model.train_step(copy.deepcopy(data), frozen_wrappers(model))
    fusions = list(model.generators.fusions.values())
    assert not any(k.startswith('alpha_') for k in log_vars)
    assert 'loss_pixel_ens' not in log_vars
    if fusion == 'AlignFusion':
        align = sum(float(m.last_loss) for m in fusions)
        assert align > 0
        assert float(log_vars['loss_align']) == pytest.approx(align, rel=1e-5)
    else:
        assert 'loss_align' not in log_vars
    # the fused output, paired with each of the M = 2 inputs: 100 * 2 * mean |y^ - y|
    with torch.no_grad():
        inputs = model.data_preprocessor(copy.deepcopy(data), True)['inputs']
        cond = torch.cat([inputs['img_rgb'], inputs['img_edge_occlusion']])
        fused = model.generators(cond)['ensemble'][0]
        l1 = (fused - inputs['img_depth_zbuffer']).abs().mean()
    assert float(log_vars['loss_pixel']) == pytest.approx(float(200 * l1), rel=1e-5)


def test_test_outputs_are_the_fused_image(data):
    model = build(dict(type='AverageFusion'))
    samples = model.test_step(copy.deepcopy(data))
    assert len(samples) == 2
    for sample in samples:
        fused = sample.fake_depth_zbuffer
        assert torch.equal(sample.fake_depth_zbuffer_from_rgb, fused)
        assert torch.equal(sample.fake_depth_zbuffer_from_edge_occlusion, fused)
