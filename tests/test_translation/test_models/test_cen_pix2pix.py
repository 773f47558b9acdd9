"""CENPix2Pix: losses against a per-stream reference computation, outputs of test_step,
task sampling, and configuration errors."""
import copy

import pytest
import torch
import torch.nn.functional as F
from mmengine import MessageHub
from mmengine.dataset import pseudo_collate
from mmengine.optim import OptimWrapper, OptimWrapperDict

import cen_mm.translation  # noqa: F401
from cen_mm.translation.datasets import SynthMultiDomainDataset
from cen_mm.translation.models import CENPix2Pix, parse_tasks
from mmagic.registry import MODELS
from tests.fixtures.threads import single_thread  # noqa: F401 (autouse)

SIZE = 16

@pytest.fixture(autouse=True, scope='module')
def mmagic_default_scope():
    """Pipelines/metrics resolve their types in mmagic's registries (configs set
    default_scope='mmagic')."""
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('mmagic'):
        yield



def build(tasks, **kw):
    generator = dict(type='CENUnetGenerator', num_down=4, base_channels=4,
                     use_dropout=False)
    generator.update(kw.pop('generator', {}))
    cfg = dict(
        type='CENPix2Pix',
        tasks=tasks,
        generator=generator,
        discriminator=dict(type='CENPatchDiscriminator', in_channels=6, base_channels=4,
                           num_conv=2),
        test_in_train_mode=False)
    cfg.update(kw)
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def batch(domains, n=2, seed=0):
    pipeline = [dict(type='LoadSynthDomains', size=SIZE), dict(type='PackDomains')]
    ds = SynthMultiDomainDataset(num_samples=n, domains=domains, seed=seed,
                                 pipeline=pipeline)
    return pseudo_collate([ds[i] for i in range(n)])


def frozen_wrappers(model):
    """Optimizers with lr 0: train_step runs completely but leaves the weights alone."""
    return OptimWrapperDict(
        generators=OptimWrapper(torch.optim.SGD(model.generators.parameters(), lr=0.0)),
        discriminators=OptimWrapper(
            torch.optim.SGD(model.discriminators.parameters(), lr=0.0)))


def set_iter(i):
    MessageHub.get_current_instance().update_info('iter', i)


def reference_losses(model, data):
    """The docstring's losses, stream by stream with plain loops."""
    data = model.data_preprocessor(copy.deepcopy(data), True)['inputs']
    gen = model.generators
    d_fake = d_real = g_gan = l1 = l1_ens = 0
    for t, task in enumerate(model.tasks):
        xs = [data[f'img_{d}'] for d in task.inputs]
        y = data[f'img_{task.target}']
        nets = model.discriminators.nets
        disc = nets['shared'] if 'shared' in nets else nets[task.target]
        outs = []
        for m, x in enumerate(xs):
            # a single stream's output needs the other streams (exchange): run them all
            streams = gen(torch.cat([data[f'img_{d}'] for tk in model.tasks
                                     for d in tk.inputs]))['streams']
            out = streams[t, m]
            outs.append(out)
            fake_logits = disc(torch.cat([x, out], 1))
            real_logits = disc(torch.cat([x, y], 1))
            d_fake += F.binary_cross_entropy_with_logits(fake_logits,
                                                         torch.zeros_like(fake_logits))
            d_real += F.binary_cross_entropy_with_logits(real_logits,
                                                         torch.ones_like(real_logits))
            g_gan += F.binary_cross_entropy_with_logits(fake_logits,
                                                        torch.ones_like(fake_logits))
            l1 += 100 * F.l1_loss(out, y)
        w = torch.softmax(gen.alpha[t], 0)
        ens = sum(w[m] * outs[m] for m in range(len(outs)))
        l1_ens += 100 * F.l1_loss(ens, y)
    return dict(loss_gan_d_fake=d_fake, loss_gan_d_real=d_real, loss_gan_g=g_gan,
                loss_pixel=l1, loss_pixel_ens=l1_ens)


MM_TASKS = [dict(inputs=['rgb', 'reshading'], target='normal'),
            dict(inputs=['rgb', 'reshading'], target='depth_zbuffer')]


@pytest.mark.parametrize('tasks,generator,shared_d', [
    ([dict(inputs=['rgb', 'edge_occlusion'], target='depth_zbuffer')], {}, True),
    (MM_TASKS, dict(separate_decoders=True, decoder_exchange=True), True),
    (MM_TASKS, dict(separate_decoders=True, decoder_exchange=True), False),
])
@pytest.mark.e2e
def test_train_step_losses_equal_reference(tasks, generator, shared_d):
    model = build(tasks, generator=generator, shared_discriminator=shared_d)
    assert set(model.discriminators.nets) == (
        {'shared'} if shared_d else {t['target'] for t in tasks})
    with torch.no_grad():
        model.generators.alpha.normal_()
    domains = sorted({d for t in tasks for d in (*t['inputs'], t['target'])})
    data = batch(domains)
    set_iter(0)
    log_vars = model.train_step(copy.deepcopy(data), frozen_wrappers(model))
    with torch.no_grad():
        expected = reference_losses(model, data)
    for key, value in expected.items():
        assert float(log_vars[key]) == pytest.approx(float(value), rel=1e-4), key
    alphas = torch.softmax(model.generators.alpha, 1)
    for t, task in enumerate(tasks):
        for m, d in enumerate(task['inputs']):
            assert float(log_vars[f"alpha_{task['target']}_{d}"]) == pytest.approx(
                float(alphas[t, m]))


@pytest.mark.e2e
def test_train_step_updates_generator_and_discriminator():
    model = build([dict(inputs=['rgb', 'edge_occlusion'], target='depth_zbuffer')])
    data = batch(['rgb', 'edge_occlusion', 'depth_zbuffer'])
    before = copy.deepcopy(model.state_dict())
    wrappers = OptimWrapperDict(
        generators=OptimWrapper(torch.optim.Adam(model.generators.parameters(), 1e-3)),
        discriminators=OptimWrapper(
            torch.optim.Adam(model.discriminators.parameters(), 1e-3)))
    set_iter(0)
    model.train_step(data, wrappers)
    after = model.state_dict()
    changed = {k for k in after if not torch.equal(after[k], before[k])}
    assert 'generators.ensemble.alpha' in changed
    assert 'generators.down_convs.0.weight' in changed
    assert 'discriminators.nets.shared.model.0.weight' in changed


@pytest.mark.e2e
def test_random_task_sampling_trains_one_flow_per_step():
    tasks = [dict(inputs=['rgb', 'reshading'], target='edge_texture'),
             dict(inputs=['rgb', 'edge_texture'], target='reshading'),
             dict(inputs=['reshading', 'edge_texture'], target='rgb')]
    model = build(tasks, task_sampling='random',
                  generator=dict(separate_decoders=True))
    torch.manual_seed(0)
    picks = [model._sample_tasks() for _ in range(40)]
    assert all(len(p) == 1 for p in picks) and {p[0] for p in picks} == {0, 1, 2}
    data = batch(['rgb', 'reshading', 'edge_texture'])
    wrappers = OptimWrapperDict(
        generators=OptimWrapper(torch.optim.SGD(model.generators.parameters(), 0.1)),
        discriminators=OptimWrapper(
            torch.optim.SGD(model.discriminators.parameters(), 0.1)))
    before = copy.deepcopy(model.generators.state_dict())
    torch.manual_seed(3)
    expected_task = int(torch.randint(3, (1, )).item())
    torch.manual_seed(3)
    set_iter(0)
    model.train_step(data, wrappers)
    after = model.generators.state_dict()
    changed_decoders = {t for t in range(3)
                        if not torch.equal(after[f'up_convs.{t}.0.weight'],
                                           before[f'up_convs.{t}.0.weight'])}
    assert changed_decoders == {expected_task}


@pytest.mark.e2e
def test_test_step_outputs_every_stream_and_the_ensemble():
    tasks = [dict(inputs=['rgb', 'edge_occlusion'], target='depth_zbuffer'),
             dict(inputs=['rgb', 'edge_occlusion'], target='normal')]
    model = build(tasks, generator=dict(separate_decoders=True))
    model.eval()
    domains = ['rgb', 'edge_occlusion', 'depth_zbuffer', 'normal']
    data = batch(domains, n=3)
    samples = model.test_step(copy.deepcopy(data))
    assert len(samples) == 3
    inputs = model.data_preprocessor(copy.deepcopy(data))['inputs']
    with torch.no_grad():
        out = model.generators(model.stack_inputs(inputs, [0, 1]))

    def to_255(t):  # independent of mmagic's destruct: [-1, 1] -> [0, 255]
        return (t * 127.5 + 127.5).clamp(0, 255)

    for i, sample in enumerate(samples):
        assert sample.metainfo['sample_name'] == f'synth_{i:06d}'
        for t, task in enumerate(tasks):
            target = task['target']
            torch.testing.assert_close(getattr(sample, f'fake_{target}'),
                                       to_255(out['ensemble'][t, i]))
            for m, d in enumerate(task['inputs']):
                torch.testing.assert_close(getattr(sample, f'fake_{target}_from_{d}'),
                                           to_255(out['streams'][t, m, i]))
            # the real target travels with the sample, 0-255 in the fakes' (BGR) order
            real = data['inputs'][f'img_{target}'][i].float()
            torch.testing.assert_close(getattr(sample, f'img_{target}').float(), real)
    assert not model.generators.training  # train-mode trick off: stays in eval


def test_test_in_train_mode_restores_the_generator_mode():
    model = build([dict(inputs=['rgb', 'edge_occlusion'], target='depth_zbuffer')],
                  generator=dict(use_dropout=True), test_in_train_mode=True)
    model.eval()
    data = batch(['rgb', 'edge_occlusion', 'depth_zbuffer'])
    seen = []
    model.generators.register_forward_pre_hook(lambda m, a: seen.append(m.training))
    model.test_step(data)
    assert seen == [True] and not model.generators.training


@pytest.mark.e2e
def test_single_input_has_only_the_ensemble_key():
    model = build([dict(inputs=['edge_texture'], target='rgb')])
    model.eval()
    sample = model.test_step(batch(['edge_texture', 'rgb']))[0]
    assert hasattr(sample, 'fake_rgb')
    assert not any(k.startswith('fake_rgb_from') for k in sample.keys())
    assert model.generators.alpha is None


@pytest.mark.e2e
def test_task_configuration_errors():
    with pytest.raises(ValueError, match='same number of inputs'):
        parse_tasks([dict(inputs=['rgb'], target='normal'),
                     dict(inputs=['rgb', 'reshading'], target='depth_zbuffer')])
    with pytest.raises(ValueError, match='targets must be distinct'):
        parse_tasks([dict(inputs=['rgb'], target='normal'),
                     dict(inputs=['reshading'], target='normal')])
    with pytest.raises(ValueError, match='must not contain the target'):
        parse_tasks([dict(inputs=['rgb', 'normal'], target='normal')])
    with pytest.raises(ValueError, match=r'tasks\[0\] must be dict'):
        parse_tasks([dict(input=['rgb'], target='normal')])
    with pytest.raises(ValueError, match='generator.num_inputs=3'):
        build([dict(inputs=['rgb', 'reshading'], target='normal')],
              generator=dict(num_inputs=3))
    model = build([dict(inputs=['rgb', 'reshading'], target='normal')])
    set_iter(0)
    with pytest.raises(KeyError, match="needs input 'img_reshading'"):
        model.train_step(batch(['rgb', 'normal']), frozen_wrappers(model))
    assert model.get_other_domains('reshading') == ['rgb', 'normal']
