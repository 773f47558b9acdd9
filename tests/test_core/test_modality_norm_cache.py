"""ModalityNorm keeps per-row parameters and exchanged channel indices between calls
(inference plan, cached running-statistic rows, cached exchange indices). The cache
must never change a value: every output here is compared bit for bit with the
autograd path (pinned against a literal reference in test_modality_norm_fast_paths),
also after the parameters change in every way a user or a runner changes them."""
import pytest
import torch

from cen_mm.core import ModalityNorm
from tests.fixtures.ema import ema_hook

THETA = 0.1


def _norm(M, norm_cfg=None, C=12, seed=0):
    g = torch.Generator().manual_seed(seed)
    norm = ModalityNorm(C, M, norm_cfg=norm_cfg or dict(type='BN'), exchange=True,
                        threshold=THETA, exchange_mode='all')
    with torch.no_grad():
        for layer in norm.norms:
            layer.weight.copy_(torch.rand(C, generator=g) + 0.5)
            layer.weight[torch.randperm(C, generator=g)[:C // 3]] = 0.05
            layer.bias.copy_(torch.randn(C, generator=g))
            if getattr(layer, 'running_mean', None) is not None:
                layer.running_mean.copy_(torch.randn(C, generator=g))
                layer.running_var.copy_(torch.rand(C, generator=g) + 0.5)
    return norm


def _autograd_path(norm, x):
    """The same forward recorded by autograd (no inference plan)."""
    out = norm(x.clone().requires_grad_())
    assert out.grad_fn is not None
    return out.detach()


def _no_grad(norm, x):
    with torch.no_grad():
        return norm(x)


@pytest.mark.parametrize('M', [2, 3])
@pytest.mark.parametrize('norm_cfg,train', [(dict(type='BN'), False),
                                            (dict(type='IN', affine=True), True)])
def test_inference_plan_bit_identical_and_reused(M, norm_cfg, train):
    norm = _norm(M, norm_cfg).train(train)
    x = torch.randn(M * 2, 12, 3, 5)
    assert 0 < int(norm.exchange_mask().sum()) < M * 12
    ref = _autograd_path(norm, x)
    with torch.no_grad():
        plan = norm._inference_plan(x)
        assert plan is not None and plan[-1] is not None  # channels exchanged
        assert norm._inference_plan(x) is plan  # reused while nothing changed
    assert torch.equal(_no_grad(norm, x), ref)
    with torch.inference_mode():
        assert torch.equal(norm(x), ref)
    # a plan built in inference mode is not reused by autograd (inference tensors)
    out = norm(x.clone().requires_grad_())
    out.sum().backward()
    assert torch.equal(out.detach(), ref)
    # other batch size: another plan
    x6 = torch.randn(M * 3, 12, 3, 5)
    assert torch.equal(_no_grad(norm, x6), _autograd_path(norm, x6))


@pytest.mark.parametrize('change', ['gamma_inplace', 'running_mean', 'load_state_dict',
                                    'dtype', 'threshold', 'optimizer_step'])
def test_inference_plan_follows_parameter_changes(change):
    M = 2
    norm = _norm(M).eval()
    x = torch.randn(M * 2, 12, 4, 4)
    before = _no_grad(norm, x)
    if change == 'gamma_inplace':  # crosses θ: the exchanged channels change too
        with torch.no_grad():
            norm.norms[0].weight[:] = 1.0
            norm.norms[1].weight[:6] = 0.01
    elif change == 'running_mean':
        norm.norms[1].running_mean.add_(1.0)
    elif change == 'load_state_dict':
        norm.load_state_dict(_norm(M, seed=1).state_dict())
    elif change == 'dtype':
        norm.double()
        x = x.double()
    elif change == 'threshold':
        norm.threshold = 0.03
    else:
        optimizer = torch.optim.SGD(norm.parameters(), lr=0.5)
        norm(x.clone().requires_grad_()).square().sum().backward()
        optimizer.step()
    after = _no_grad(norm, x)
    assert torch.equal(after, _autograd_path(norm, x))
    if change != 'dtype':
        assert not torch.equal(after, before)


@pytest.mark.parametrize('M', [2, 3])
def test_cached_rows_and_indices_in_training_keep_gradients(M):
    """Frozen BN in training (``norm_eval``): running-statistic rows and exchange
    indices are reused between steps; values and gradients equal those of a fresh
    module (no cache) at every step, also after γ crosses θ."""
    norm = _norm(M).train()
    for layer in norm.norms:
        layer.eval()  # norm_eval: frozen statistics, trainable γ/β
    x = torch.randn(M * 2, 12, 3, 3)
    optimizer = torch.optim.SGD(norm.parameters(), lr=0.2)
    for step in range(3):
        fresh = ModalityNorm(12, M, exchange=True, threshold=THETA,
                             exchange_mode='all')
        fresh.load_state_dict(norm.state_dict())
        fresh.train()
        for layer in fresh.norms:
            layer.eval()
        outs, grads = [], []
        for module in (norm, fresh):
            xi = x.clone().requires_grad_()
            module.zero_grad()
            out = module(xi)
            out.square().mean().backward()
            outs.append(out.detach())
            grads.append([xi.grad] + [p.grad for p in module.parameters()])
        assert torch.equal(outs[0], outs[1])
        for a, b in zip(*grads):
            assert torch.equal(a, b)
        if step == 1:
            with torch.no_grad():
                norm.norms[0].weight[:4] = 0.01  # new channels below θ
        optimizer.step()
    assert 'exchange_rows' in norm._cache and 'running_mean' in norm._cache


@pytest.mark.parametrize('M', [2, 3])
def test_ema_swap_before_validation_is_seen(M):
    """EMAHook swaps the EMA weights in through ``.data`` (no ``_version`` bump),
    then the ValLoop calls ``model.eval()``. A plan kept from the weights before
    the swap must not survive that: validation runs the EMA weights."""
    norm = _norm(M).eval()
    x = torch.randn(M * 2, 12, 4, 4)
    hook = ema_hook(norm, ema_weight_scale=0.15)
    before = _no_grad(norm, x)  # plan kept from the training weights
    norm.train()
    hook._swap_ema_parameters()  # before_val_epoch
    norm.eval()  # ValLoop.run
    validated = _no_grad(norm, x)
    reference = _autograd_path(norm, x)
    assert not torch.equal(reference, before)
    assert torch.equal(validated, reference)
    # swapped back (after_val_epoch), as the training loop resumes
    hook._swap_ema_parameters()
    norm.train()
    norm.eval()
    assert torch.equal(_no_grad(norm, x), before)


def test_forget_kept_values_after_data_writes_without_mode_change():
    from cen_mm.core import forget_kept_values
    M = 2
    norm = _norm(M).eval()
    model = torch.nn.Sequential(norm)
    x = torch.randn(M * 2, 12, 4, 4)
    before = _no_grad(model, x)
    norm.norms[0].weight.data.mul_(0.15)  # no _version bump, no mode change
    forget_kept_values(model)
    after = _no_grad(model, x)
    assert not torch.equal(after, before)
    assert torch.equal(after, _autograd_path(norm, x))
