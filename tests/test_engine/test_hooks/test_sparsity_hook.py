"""CENSparsityHook: one optimizer step computed by hand (SGD, Adam), accumulation,
AMP loss scaling (incl. skipped steps), clipping, optimizer dicts, proximal mode.

References are independent of the hook: the gradient of the *unpenalised* loss comes
from autograd on a deep copy, the penalty masks are written out by hand
(``OWNER_A``/``OWNER_B``), and the update rules are spelled out below.
"""
import copy
import functools
import json
import glob
import os.path as osp

import pytest
import torch
import torch.nn as nn
from mmengine.optim import AmpOptimWrapper, OptimWrapper, OptimWrapperDict
from mmengine.optim.optimizer import amp_optimizer_wrapper

from cen_mm.engine.hooks import CENSparsityHook
from cen_mm.engine.optimizers.amp_optim_wrapper import CPUAmpOptimWrapper
from tests.fixtures.cen_hook_toys import (GAMMA_A, GAMMA_B, OWNER_A, OWNER_B,
                                          TwoBranchCEN, make_batch, make_runner,
                                          toy_loss)

LAMBDA = 0.05
DT = torch.float64


def build_model():
    torch.manual_seed(0)
    return TwoBranchCEN().to(DT)


def gamma_params(model):
    """{param name: (param, hand-written penalty mask)} for the exchanging layers."""
    out = {}
    for layer, owner in (('a', OWNER_A), ('b', OWNER_B)):
        for m, row in enumerate(owner):
            p = getattr(model, layer).norms[m].weight
            out[f'{layer}.norms.{m}.weight'] = (p, torch.tensor(row, dtype=DT))
    return out


def reference_grads(model, batches, accumulate=None):
    """Gradients of the unpenalised loss (mean over ``batches`` as mmengine's
    accumulation does), from autograd on a copy."""
    ref = copy.deepcopy(model)
    k = accumulate or len(batches)
    for batch in batches:
        (toy_loss(ref, batch) / k).backward()
    return {n: p.grad.clone() for n, p in ref.named_parameters()}


def params_before(model):
    return {n: p.detach().clone() for n, p in model.named_parameters()}


def assert_params(model, expected, rtol=0.0, atol=0.0):
    for n, p in model.named_parameters():
        torch.testing.assert_close(p.detach(), expected[n], rtol=rtol, atol=atol,
                                   msg=lambda m, n=n: f'{n}: {m}')


def hooked_first_step(model, wrapper, batch_seed, **hook_kwargs):
    """Attach ``CENSparsityHook(lambda_=LAMBDA, **hook_kwargs)`` and take one update on
    ``make_batch(batch_seed)``; returns what the expected values are built from: the
    plain gradients, the parameters before the step and the γ penalty masks (by name).
    """
    batch = make_batch(batch_seed)
    g = reference_grads(model, [batch])
    p0 = params_before(model)
    masks = {n: m for n, (_, m) in gamma_params(model).items()}
    CENSparsityHook(lambda_=LAMBDA, **hook_kwargs).attach(model, wrapper)
    wrapper.update_params(toy_loss(model, batch))
    return g, p0, masks


# ---- one step by hand ----------------------------------------------------------------
def test_subgradient_sgd_one_step_by_hand():
    model = build_model()
    lr, mom, wd = 0.1, 0.9, 1e-2
    wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=lr, momentum=mom,
                                           weight_decay=wd))
    g, p0, masks = hooked_first_step(model, wrapper, 1)
    # first SGD step: buf = d_p = grad + wd*p; p -= lr*buf
    expected = {n: p0[n] - lr * ((g[n] + (LAMBDA * torch.sign(p0[n]) * masks[n]
                                          if n in masks else 0)) + wd * p0[n])
                for n in p0}
    assert_params(model, expected, atol=1e-15)
    # the γ that was exactly 0 (layer b, stream 2, channel 3) got no penalty push
    assert GAMMA_B[2][3] == 0.0
    g_b2 = g['b.norms.2.weight'][3]
    assert model.b.norms[2].weight[3].item() == pytest.approx(
        -lr * float(g_b2), abs=1e-15)


def test_subgradient_adam_one_step_by_hand():
    model = build_model()
    lr, wd, eps = 1e-3, 1e-2, 1e-8
    wrapper = OptimWrapper(torch.optim.Adam(model.parameters(), lr=lr, eps=eps,
                                            weight_decay=wd))
    g, p0, masks = hooked_first_step(model, wrapper, 2)
    expected = {}
    for n in p0:
        pen = LAMBDA * torch.sign(p0[n]) * masks[n] if n in masks else 0
        gp = g[n] + pen + wd * p0[n]
        # first Adam step: m_hat = gp, v_hat = gp^2
        expected[n] = p0[n] - lr * gp / (gp.abs() + eps)
    assert_params(model, expected, rtol=1e-12, atol=1e-15)


def test_penalty_on_all_channels_option():
    model = build_model()
    lr = 0.1
    wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=lr))
    g, p0, gammas = hooked_first_step(model, wrapper, 3, penalty_channels='all')
    expected = {n: p0[n] - lr * (g[n] + (LAMBDA * torch.sign(p0[n])
                                         if n in gammas else 0)) for n in p0}
    assert_params(model, expected, atol=1e-15)


def test_accumulation_applies_penalty_once_per_real_step():
    model = build_model()
    lr, wd = 0.1, 1e-3
    wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9,
                                           weight_decay=wd), accumulative_counts=2)
    batches = [make_batch(4), make_batch(5)]
    g = reference_grads(model, batches)
    p0 = params_before(model)
    masks = {n: m for n, (_, m) in gamma_params(model).items()}
    CENSparsityHook(lambda_=LAMBDA).attach(model, wrapper)
    wrapper.update_params(toy_loss(model, batches[0]))
    assert_params(model, p0)  # no real step yet
    g1 = reference_grads(model, batches[:1], accumulate=2)
    # the gradient after the first micro-step carries no penalty
    torch.testing.assert_close(model.a.norms[0].weight.grad, g1['a.norms.0.weight'],
                               rtol=0, atol=0)
    wrapper.update_params(toy_loss(model, batches[1]))
    expected = {n: p0[n] - lr * (g[n] + (LAMBDA * torch.sign(p0[n]) * masks[n]
                                         if n in masks else 0) + wd * p0[n])
                for n in p0}
    assert_params(model, expected, atol=1e-15)


@pytest.mark.parametrize('optim', ['sgd', 'adam'])
def test_equivalent_to_penalised_loss_over_steps(optim):
    """Three real steps with accumulation 2: hook vs training on L + λΣ|γ̂|."""
    model = build_model()
    ref = copy.deepcopy(model)

    def make_opt(params):
        if optim == 'sgd':
            return torch.optim.SGD(params, lr=0.05, momentum=0.9, weight_decay=1e-2)
        return torch.optim.Adam(params, lr=1e-2, weight_decay=1e-2)

    wrapper = OptimWrapper(make_opt(model.parameters()), accumulative_counts=2)
    ref_wrapper = OptimWrapper(make_opt(ref.parameters()), accumulative_counts=2)
    hook = CENSparsityHook(lambda_=LAMBDA)
    hook.attach(model, wrapper)
    ref_masks = [(p, m) for p, m in gamma_params(ref).values()]
    for i in range(6):
        batch = make_batch(10 + i)
        wrapper.update_params(toy_loss(model, batch))
        penalty = sum((p.abs() * m).sum() for p, m in ref_masks)
        ref_wrapper.update_params(toy_loss(ref, batch) + LAMBDA * penalty)
    for (n, p), (_, q) in zip(model.named_parameters(), ref.named_parameters()):
        torch.testing.assert_close(p, q, rtol=1e-10, atol=1e-13, msg=n)
    # and the penalty really moved something (not a vacuous comparison)
    assert not torch.allclose(model.a.norms[0].weight,
                              torch.tensor(GAMMA_A[0], dtype=DT))


def test_parameter_without_grad_gets_the_penalty_and_frozen_one_does_not():
    model = build_model()
    model.b.norms[0].weight.requires_grad_(False)  # frozen: untouched
    lr = 0.1
    wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=lr))
    hook = CENSparsityHook(lambda_=LAMBDA)
    hook.attach(model, wrapper)
    assert all(e.param is not model.b.norms[0].weight for e in hook.entries)
    xa, xb, t = make_batch(6)
    # only branch a is used: branch b's γ get no gradient from the loss
    loss = (model.head.weight[0, :4] * model.a(model.conv_a(xa)).mean()).sum()
    p0 = params_before(model)
    wrapper.update_params(loss)
    for m in (1, 2):  # L + λΣ|γ̂| would give exactly λ·sign(γ̂) to these
        mask = torch.tensor(OWNER_B[m], dtype=DT)
        expected = p0[f'b.norms.{m}.weight'] - lr * LAMBDA * torch.sign(
            torch.tensor(GAMMA_B[m], dtype=DT)) * mask
        torch.testing.assert_close(model.b.norms[m].weight.detach(), expected,
                                   rtol=0, atol=1e-16)
    assert torch.equal(model.b.norms[0].weight, p0['b.norms.0.weight'])


def test_clip_grad_clips_the_penalised_gradient():
    model = build_model()
    lr, max_norm = 0.1, 1e-2
    wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=lr),
                           clip_grad=dict(max_norm=max_norm))
    batch = make_batch(7)
    g = reference_grads(model, [batch])
    p0 = params_before(model)
    masks = {n: m for n, (_, m) in gamma_params(model).items()}
    hook = CENSparsityHook(lambda_=LAMBDA)
    hook.attach(model, wrapper)
    assert len(wrapper.optimizer._optimizer_step_pre_hooks) == 0
    wrapper.update_params(toy_loss(model, batch))
    full = {n: g[n] + (LAMBDA * torch.sign(p0[n]) * masks[n] if n in masks else 0)
            for n in p0}
    total = torch.sqrt(sum((v**2).sum() for v in full.values()))
    coef = min(1.0, max_norm / (float(total) + 1e-6))
    assert coef < 1  # clipping is active
    assert_params(model, {n: p0[n] - lr * coef * full[n] for n in p0}, rtol=1e-12,
                  atol=1e-15)
    hook.detach()
    assert '_clip_grad' not in wrapper.__dict__


# ---- proximal ----------------------------------------------------------------------
def test_proximal_soft_thresholds_with_the_owning_group_lr():
    model = build_model()
    gammas = gamma_params(model)
    gamma_ids = {id(p) for p, _ in gammas.values()}
    lr_gamma, lr_other, lam = 0.2, 0.1, 0.3  # shrink 0.06 per step
    optimizer = torch.optim.SGD([
        dict(params=[p for p in model.parameters() if id(p) not in gamma_ids],
             lr=lr_other),
        dict(params=[p for p, _ in gammas.values()], lr=lr_gamma),
    ])
    wrapper = OptimWrapper(optimizer)
    batch = make_batch(8)
    g = reference_grads(model, [batch])
    p0 = params_before(model)
    CENSparsityHook(lambda_=lam, mode='proximal').attach(model, wrapper)
    wrapper.update_params(toy_loss(model, batch))
    expected = {}
    for n in p0:
        if n in gammas:
            z = p0[n] - lr_gamma * g[n]
            mask = gammas[n][1].bool()
            soft = torch.sign(z) * torch.clamp(z.abs() - lr_gamma * lam, min=0)
            expected[n] = torch.where(mask, soft, z)
        else:
            expected[n] = p0[n] - lr_other * g[n]
    assert_params(model, expected, atol=1e-15)
    # small penalised γ became exact zeros; unpenalised small ones did not
    for layer, m, c in (('a', 0, 0), ('a', 1, 2), ('b', 0, 0), ('b', 1, 1)):
        assert getattr(model, layer).norms[m].weight[c].item() == 0.0
    assert model.a.norms[0].weight[3].item() != 0.0  # 0.001 outside the sub-part


# ---- AMP (GradScaler) -------------------------------------------------------------
@pytest.fixture
def cpu_amp(monkeypatch):
    """mmengine 0.10.7's AmpOptimWrapper asserts CUDA/NPU/MLU/MUSA and builds
    torch.cuda.amp.GradScaler (disabled without CUDA). Run its real code with a CPU
    GradScaler: only the device differs from GPU training."""
    monkeypatch.setattr(amp_optimizer_wrapper, 'is_cuda_available', lambda: True)
    monkeypatch.setattr(amp_optimizer_wrapper, 'GradScaler',
                        functools.partial(torch.amp.GradScaler, 'cpu'))


def _amp_optimizer(kind, params):
    if kind == 'sgd':
        return torch.optim.SGD(params, lr=0.1, weight_decay=1e-2)
    return torch.optim.Adam(params, lr=1e-3, weight_decay=1e-2, fused=True)


def _expected_first_step(kind, p0, g, masks):
    out = {}
    for n in p0:
        pen = LAMBDA * torch.sign(p0[n]) * masks[n] if n in masks else 0
        gp = g[n] + pen + 1e-2 * p0[n]
        out[n] = p0[n] - (0.1 * gp if kind == 'sgd' else 1e-3 * gp / (gp.abs() + 1e-8))
    return out


@pytest.mark.parametrize('wrapper_type', ['mmengine', 'cen_mm_cpu'])
@pytest.mark.parametrize('kind', ['sgd', 'adam_fused'])
def test_amp_loss_scaled_step(cpu_amp, kind, wrapper_type):
    model = build_model()
    # cen_mm's CPUAmpOptimWrapper is what `tools/train.py --amp` uses without a GPU
    wrapper_cls = (AmpOptimWrapper if wrapper_type == 'mmengine' else
                   CPUAmpOptimWrapper)
    wrapper = wrapper_cls(optimizer=_amp_optimizer(kind, model.parameters()),
                          loss_scale=1024.0)
    if kind == 'adam_fused':  # grads reach the pre-hook still scaled
        assert wrapper.optimizer._step_supports_amp_scaling
    g, p0, masks = hooked_first_step(model, wrapper, 9)
    assert wrapper.loss_scaler.get_scale() == 1024.0
    assert_params(model, _expected_first_step(kind, p0, g, masks), rtol=1e-10,
                  atol=1e-14)


@pytest.mark.parametrize('kind', ['sgd', 'adam_fused'])
@pytest.mark.parametrize('mode', ['subgradient', 'proximal'])
def test_amp_skipped_step_applies_nothing(cpu_amp, kind, mode):
    model = build_model()
    wrapper = AmpOptimWrapper(optimizer=_amp_optimizer(kind, model.parameters()),
                              loss_scale=dict(init_scale=1024.0))
    CENSparsityHook(lambda_=LAMBDA, mode=mode).attach(model, wrapper)
    p0 = params_before(model)
    wrapper.backward(toy_loss(model, make_batch(11)))
    model.head.bias.grad.fill_(float('inf'))  # overflow: GradScaler skips the step
    wrapper.step()
    wrapper.zero_grad()
    assert wrapper.loss_scaler.get_scale() == 512.0
    assert_params(model, p0)
    if mode == 'subgradient':  # the next, finite step is an ordinary first step
        batch = make_batch(12)
        g = reference_grads(model, [batch])
        masks = {n: m for n, (_, m) in gamma_params(model).items()}
        wrapper.update_params(toy_loss(model, batch))
        assert_params(model, _expected_first_step(kind, p0, g, masks), rtol=1e-10,
                      atol=1e-14)


# ---- wrappers, registration, errors, logging ----------------------------------------
def test_optim_wrapper_dict_hooks_only_the_owner_and_detaches():
    model = build_model()
    disc = nn.Linear(3, 1).to(DT)
    gen_w = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    disc_w = OptimWrapper(torch.optim.SGD(disc.parameters(), lr=0.1))
    wrappers = OptimWrapperDict(generators=gen_w, discriminators=disc_w)
    hook = CENSparsityHook(lambda_=LAMBDA)
    hook.attach(model, wrappers)
    assert len(gen_w.optimizer._optimizer_step_pre_hooks) == 1
    assert len(disc_w.optimizer._optimizer_step_pre_hooks) == 0
    assert len(hook.entries) == 5  # 2 + 3 streams, the plain norm excluded
    p0 = params_before(model)
    disc_w.update_params(disc(torch.ones(2, 3, dtype=DT)).sum())
    assert_params(model, p0)  # a discriminator step does not penalise γ
    hook.detach()
    assert len(gen_w.optimizer._optimizer_step_pre_hooks) == 0


def test_ddp_wrapped_model_is_unwrapped(tmp_path):
    import torch.distributed as dist
    from mmengine.model import MMDistributedDataParallel
    dist.init_process_group('gloo', init_method=f'file://{tmp_path}/store', rank=0,
                            world_size=1)
    try:
        model = build_model()
        ddp = MMDistributedDataParallel(module=model)
        wrapper = OptimWrapper(torch.optim.SGD(ddp.parameters(), lr=0.1))
        hook = CENSparsityHook(lambda_=LAMBDA)
        hook.attach(ddp, wrapper)
        assert {id(e.param) for e in hook.entries} == {
            id(p) for p, _ in gamma_params(model).values()}
        batch = make_batch(13)
        g = reference_grads(model, [batch])
        p0 = params_before(model)
        masks = {n: m for n, (_, m) in gamma_params(model).items()}
        xa, xb, t = batch
        wrapper.update_params(((ddp(xa, xb) - t)**2).mean())
        expected = {n: p0[n] - 0.1 * (g[n] + (LAMBDA * torch.sign(p0[n]) * masks[n]
                                              if n in masks else 0)) for n in p0}
        assert_params(model, expected, rtol=1e-12, atol=1e-15)
    finally:
        dist.destroy_process_group()


def test_penalty_stats_by_hand():
    model = build_model()
    hook = CENSparsityHook(lambda_=LAMBDA)
    hook.attach(model, OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1)))
    penalty, frac = hook.penalty_stats()
    # |γ̂|: a: s0 {0.01, 0.5}, s1 {0.015, 0.4}; b: s0 {0.05}, s1 {0.05, 0.5},
    # s2 {0.0, 0.5}. Below θ (0.02 / 0.1): 0.01, 0.015 | 0.05, 0.05, 0.0 -> 5 of 9.
    assert penalty == pytest.approx(LAMBDA * 2.025, rel=1e-6)  # float32 γ and sums
    assert frac == pytest.approx(5 / 9, rel=1e-12)


def test_bad_arguments_and_models():
    with pytest.raises(ValueError, match='mode'):
        CENSparsityHook(mode='l1')
    with pytest.raises(ValueError, match='penalty_channels'):
        CENSparsityHook(penalty_channels='half')
    with pytest.raises(ValueError, match='lambda_'):
        CENSparsityHook(lambda_=-1)
    plain = nn.Sequential(nn.Conv2d(3, 4, 1), nn.BatchNorm2d(4))
    with pytest.raises(ValueError, match='no exchanging ModalityNorm'):
        CENSparsityHook().attach(
            plain, OptimWrapper(torch.optim.SGD(plain.parameters(), lr=0.1)))


def test_runner_integration_logs_and_unregisters(tmp_path):
    runner = make_runner(tmp_path, [dict(type='CENSparsityHook', lambda_=LAMBDA)],
                         max_iters=3, val_interval=10)
    runner.train()
    optimizer = runner.optim_wrapper.optimizer
    assert len(optimizer._optimizer_step_pre_hooks) == 0  # removed after train
    model = runner.model
    expected = LAMBDA * sum(
        float((layer.norms[m].weight.detach().abs() * layer.owner_mask[m]).sum())
        for layer in (model.norm1, model.norm2) for m in range(layer.num_streams))
    log_dir = glob.glob(osp.join(str(tmp_path), '*', 'vis_data'))[0]
    lines = [json.loads(line) for line in open(osp.join(log_dir, 'scalars.json'))]
    last = [r for r in lines if 'sparsity_penalty' in r][-1]
    assert last['step'] == 3
    assert last['sparsity_penalty'] == pytest.approx(expected, rel=1e-5)
    assert 0 < last['sparsity_frac_below_thr'] < 1
    text = open(glob.glob(osp.join(str(tmp_path), '*', '*.log'))[0]).read()
    assert 'sparsity_penalty' in text and 'sparsity_frac_below_thr' in text
