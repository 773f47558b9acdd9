"""Host patterns of |γ| < θ (cen_mm.core.exchange_patterns): read once per forward for
all exchanging norms, fresh exactly while γ is unchanged, and, on an accelerator, the
indexed paths with no host read of device data per layer (checked on the 'meta'
device, where any such read raises), with the same values and gradients as without."""
import copy

import pytest
import torch
from mmengine.registry import MODELS

import cen_mm  # noqa: F401
import cen_mm.core.exchange as exchange_module
from cen_mm.core import ModalityNorm, iter_exchanging_norms
from cen_mm.core.exchange_patterns import (forget_host_patterns, host_patterns,
                                           pattern_norms, refresh_host_patterns,
                                           refresh_on_accelerator)
from cen_mm.core.modality_layer_norm import ModalityLayerNorm
from tests.fixtures.ema import ema_hook

THETA = 0.4


def cen_resnet(M=2, norm_eval=True, mode='subpart', seed=0):
    torch.manual_seed(seed)
    backbone = MODELS.build(dict(
        type='CENResNet', depth=18, in_channels=(3, 1, 2)[:M], base_channels=8,
        stem_channels=8, exchange_threshold=THETA, exchange_mode=mode,
        norm_eval=norm_eval))
    with torch.no_grad():
        for _, norm in iter_exchanging_norms(backbone):
            for layer in norm.norms:
                layer.weight.uniform_(-1, 1)
    backbone.train()
    assert sum(int(n.exchange_mask().sum()) for _, n in
               iter_exchanging_norms(backbone)) > 0
    return backbone


def train_steps(backbone, inputs, refresh, steps=3):
    """Loss and every gradient of ``steps`` SGD steps; between steps γ crosses θ
    (in place under no_grad, as an optimizer would), so a stale pattern shows."""
    optimizer = torch.optim.SGD(backbone.parameters(), lr=0.01)
    history = []
    for step in range(steps):
        if refresh:
            refresh_host_patterns(backbone)
        optimizer.zero_grad()
        levels = backbone(inputs.clone())
        loss = sum((t * torch.linspace(-1, 1, t.numel()).view_as(t)).mean()
                   for stream in levels for t in stream)
        loss.backward()
        history.append([loss.detach()] + [p.grad.clone() for p in
                                          backbone.parameters() if p.grad is not None])
        optimizer.step()
        with torch.no_grad():
            for i, (_, norm) in enumerate(iter_exchanging_norms(backbone)):
                layer = norm.norms[(step + i) % norm.num_streams]
                layer.weight[i % norm.num_features] = -layer.weight[
                    i % norm.num_features].sign() * THETA / 3
    return history


@pytest.mark.parametrize('M', [2, 3])
@pytest.mark.parametrize('norm_eval', [True, False])
def test_training_with_host_patterns_is_bit_identical(M, norm_eval):
    backbone = cen_resnet(M, norm_eval)
    inputs = torch.randn(2, (4, 6)[M - 2], 32, 32)
    reference = train_steps(copy.deepcopy(backbone), inputs, refresh=False)
    got = train_steps(backbone, inputs, refresh=True)
    for want_step, got_step in zip(reference, got):
        assert len(want_step) == len(got_step)
        assert torch.isfinite(want_step[0])
        for want, have in zip(want_step, got_step):
            assert torch.equal(want, have)


def test_one_transfer_for_all_norms_and_only_when_gamma_changed():
    backbone = cen_resnet()
    norms = pattern_norms(backbone)
    assert len(norms) == len(list(iter_exchanging_norms(backbone))) > 1
    assert pattern_norms(backbone) is norms  # found once, kept on the model
    with torch.no_grad():  # at θ exactly (in float32): not below, as on the device
        norms[0].norms[1].weight[:2] = torch.tensor([THETA, -THETA])
    assert refresh_host_patterns(backbone) == 1  # all stale: one transfer for all
    for norm in norms:
        below = norm.host_below_pattern()
        assert below.device.type == 'cpu'
        assert torch.equal(below, norm.gamma().detach().abs() < THETA)
        assert torch.equal(norm._plan_mask(), norm.exchange_mask())
    assert refresh_host_patterns(backbone) == 0  # nothing changed
    with torch.no_grad():
        norms[1].norms[0].weight[0] = THETA / 2  # an in-place change (optimizer)
    assert norms[1].host_below_pattern() is None
    assert norms[0].host_below_pattern() is not None
    assert refresh_host_patterns(backbone) == 1
    assert norms[1].host_below_pattern()[0, 0]
    backbone.load_state_dict(backbone.state_dict())  # copies into every γ
    assert all(n.host_below_pattern() is None for n in norms)
    refresh_host_patterns(backbone)
    forget_host_patterns(backbone)
    assert all(n.host_below_pattern() is None for n in norms)
    assert pattern_norms(backbone) is not norms and pattern_norms(backbone) == norms


def test_kept_norm_list_belongs_to_its_model():
    backbone = cen_resnet()
    norms = pattern_norms(backbone)
    clone = copy.deepcopy(backbone)  # the kept list maps to the copy's norms
    assert len(pattern_norms(clone)) == len(norms)
    assert not any(n is m for n in pattern_norms(clone) for m in norms)
    assert all(any(n is m for m in clone.modules()) for n in pattern_norms(clone))
    shallow = copy.copy(backbone)  # shares the dict entry, e.g. a replica
    shallow.__dict__ = dict(backbone.__dict__)
    shallow._modules = dict(backbone._modules)
    assert pattern_norms(shallow) == norms  # found again: the same modules here
    assert shallow.__dict__['_cen_pattern_norms'][0] is shallow


@pytest.mark.parametrize('mode', ['subpart', 'all'])
def test_plan_mask_follows_the_exchange_mode(mode):
    backbone = cen_resnet(mode=mode)
    refresh_host_patterns(backbone)
    for _, norm in iter_exchanging_norms(backbone):
        assert torch.equal(norm._plan_mask(), norm.exchange_mask())


def test_refreshed_only_for_accelerator_inputs():
    backbone = cen_resnet()
    refresh_on_accelerator(backbone, torch.zeros(1))
    assert all(n.host_below_pattern() is None for n in pattern_norms(backbone))
    refresh_on_accelerator(backbone, torch.zeros(1, device='meta'))
    assert all(n.host_below_pattern() is not None for n in pattern_norms(backbone))


def test_host_patterns_can_be_switched_off():
    backbone = cen_resnet()
    accelerator_input = torch.zeros(1, device='meta')

    def recorded():
        return [n.host_below_pattern() is not None for n in pattern_norms(backbone)]

    with host_patterns(False):
        refresh_on_accelerator(backbone, accelerator_input)
        assert not any(recorded())
    refresh_on_accelerator(backbone, accelerator_input)
    assert all(recorded())
    with pytest.raises(RuntimeError), host_patterns(False):
        refresh_on_accelerator(backbone, accelerator_input)  # drops them
        assert not any(recorded())
        with host_patterns(True):
            refresh_on_accelerator(backbone, accelerator_input)
            assert all(recorded())
        refresh_on_accelerator(backbone, accelerator_input)
        assert not any(recorded())
        raise RuntimeError
    refresh_on_accelerator(backbone, accelerator_input)  # on again after the error
    assert all(recorded())


def test_policies_and_replacements_keep_their_own_masks():
    plain = ModalityNorm(8, 2, exchange=True)
    policy = ModalityNorm(8, 2, exchange=True,
                          exchange_policy=dict(type='fixed_ratio', ratio=0.5))
    assert pattern_norms(torch.nn.ModuleList([plain, policy])) == [plain]


def _meta_training_step(norm, x):
    """A training forward and backward on the meta device: any read of device data
    on the host (a synchronisation on a real accelerator) raises there."""
    out = norm(x.clone().requires_grad_())
    out.sum().backward()
    return out


@pytest.mark.parametrize('M', [2, 3])
@pytest.mark.parametrize('frozen', [True, False])
def test_accelerator_training_path_reads_nothing_on_the_host(M, frozen, monkeypatch):
    torch.manual_seed(0)
    norm = ModalityNorm(12, M, exchange=True, threshold=THETA)
    with torch.no_grad():
        for layer in norm.norms:
            layer.weight.uniform_(-1, 1)
    pattern = norm.gamma().detach().abs() < THETA
    assert (pattern & norm.owner_mask).any()
    norm.train()
    if frozen:
        for layer in norm.norms:
            layer.eval()
    used = []
    for name in ('_MaskedChannelExchange', '_RowsChannelExchange'):
        cls = getattr(exchange_module, name)
        monkeypatch.setattr(cls, 'apply', staticmethod(
            lambda *a, _n=name, _f=cls.apply: used.append(_n) or _f(*a)))
    norm.to('meta')
    x = torch.randn(M * 2, 12, 4, 4, device='meta')
    _meta_training_step(norm, x)  # no host pattern: the sync-free blend
    assert used == ['_MaskedChannelExchange']
    norm.set_host_below_pattern(pattern)
    _meta_training_step(norm, x)
    if frozen and M == 2:
        assert used == ['_MaskedChannelExchange']  # index_select + index_copy_
    else:
        assert used == ['_MaskedChannelExchange', '_RowsChannelExchange']


def test_layer_norm_tokens_with_host_patterns_read_nothing_on_the_host(monkeypatch):
    torch.manual_seed(0)
    norm = ModalityLayerNorm(8, 2, exchange=True, threshold=THETA, fused=False)
    with torch.no_grad():
        for layer in norm.norms:
            layer.weight.uniform_(-1, 1)
    x = torch.randn(4, 5, 8)
    want = norm(x.clone())
    pattern = norm.gamma().detach().abs() < THETA
    used = []
    cls = exchange_module._ChannelExchange
    monkeypatch.setattr(cls, 'apply', staticmethod(
        lambda *a, _f=cls.apply: used.append(1) or _f(*a)))
    norm.set_host_below_pattern(pattern)
    assert torch.equal(norm(x.clone().requires_grad_()), want)  # CPU: same values
    norm.to('meta')
    norm.set_host_below_pattern(pattern)
    _meta_training_step(norm, x.to('meta'))  # indexed, no host read
    assert len(used) == 2


def test_pattern_compares_in_the_parameter_dtype_like_the_device():
    # float32(0.02) < 0.02 in float64: a float64 comparison would call it below θ
    norm = ModalityNorm(4, 2, exchange=True, threshold=0.02, exchange_mode='all')
    with torch.no_grad():
        norm.norms[0].weight.copy_(torch.tensor([0.02, 0.019, 0.5, -0.02]))
    refresh_host_patterns(torch.nn.ModuleList([norm]))
    assert norm.host_below_pattern()[0].tolist() == [False, True, False, False]
    assert torch.equal(norm.host_below_pattern(), norm.exchange_mask())


def test_ema_swap_around_validation_leaves_no_stale_pattern():
    """mmengine's EMAHook swaps weights through ``.data`` (no ``_version`` bump):
    in before_val_epoch (then ``model.eval()``) and back in after_val_epoch (then
    ``model.train()`` for the next iteration). Validation reads the EMA γ's
    pattern; the next training forward must read the training γ's again, not keep
    the EMA one (which would exchange other channels for one iteration)."""
    backbone = cen_resnet(M=2)
    inputs = torch.randn(2, 4, 32, 32)
    hook = ema_hook(backbone, ema_weight_scale=0.3)
    optimizer = torch.optim.SGD(backbone.parameters(), lr=0.01)

    def patterns_match_gamma():
        refresh_host_patterns(backbone)  # what a forward on an accelerator does
        return all(torch.equal(norm.host_below_pattern(),
                               norm.gamma().abs() < norm.threshold)
                   for norm in pattern_norms(backbone))

    assert patterns_match_gamma()
    sum(t.mean() for t in backbone(inputs).stacked).backward()
    optimizer.step()  # bumps every γ's _version
    hook._swap_ema_parameters()  # before_val_epoch
    backbone.eval()  # ValLoop.run
    assert patterns_match_gamma()
    ema_patterns = [norm.host_below_pattern() for norm in pattern_norms(backbone)]
    hook._swap_ema_parameters()  # after_val_epoch
    backbone.train()  # IterBasedTrainLoop.run, next iteration
    assert patterns_match_gamma()
    assert any(not torch.equal(norm.host_below_pattern(), ema)
               for norm, ema in zip(pattern_norms(backbone), ema_patterns))
