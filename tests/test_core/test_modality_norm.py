"""ModalityNorm: private norms per stream, fast paths == per-stream reference, state dicts,
SyncBN conversion, exchange wiring."""
import pytest
import torch
import torch.nn as nn

from cen_mm.core import ModalityNorm, iter_exchanging_norms, subpart_mask


def _randomize(norm: ModalityNorm, seed=0):
    g = torch.Generator().manual_seed(seed)
    for layer in norm.norms:
        if layer.weight is not None:
            layer.weight.data = torch.rand(layer.weight.shape, generator=g) + 0.5
            layer.bias.data = torch.randn(layer.bias.shape, generator=g)
        if getattr(layer, 'running_mean', None) is not None:
            layer.running_mean.data = torch.randn(layer.running_mean.shape, generator=g)
            layer.running_var.data = torch.rand(layer.running_var.shape, generator=g) + .5


def _reference(norm: ModalityNorm, x: torch.Tensor) -> torch.Tensor:
    """Each stream's own layer on its own slice, concatenated (no exchange)."""
    layers = [norm.norms[0]] * norm.num_streams if norm.shared else norm.norms
    return torch.cat([layer(c) for layer, c in zip(layers, x.chunk(norm.num_streams))])


@pytest.mark.parametrize('norm_cfg,train', [
    (dict(type='BN'), False),            # frozen-BN affine fast path
    (dict(type='BN'), True),             # per-stream batch statistics
    (dict(type='IN', affine=True), True),  # per-sample fast path
    (dict(type='GN', num_groups=2), True),
])
@pytest.mark.parametrize('M', [2, 3])
def test_forward_matches_per_stream_reference(norm_cfg, train, M):
    torch.manual_seed(0)
    norm = ModalityNorm(8, M, norm_cfg=norm_cfg)
    _randomize(norm)
    norm.train(train)
    x = torch.randn(M * 2, 8, 5, 4, requires_grad=True)
    ref_norm = ModalityNorm(8, M, norm_cfg=norm_cfg)
    ref_norm.load_state_dict(norm.state_dict())
    ref_norm.train(train)
    out = norm(x)
    ref = _reference(ref_norm, x)
    torch.testing.assert_close(out, ref, rtol=1e-5, atol=1e-5)
    upstream = torch.randn_like(out)
    g = torch.autograd.grad((out * upstream).sum(), [x] + list(norm.parameters()))
    gr = torch.autograd.grad((ref * upstream).sum(), [x] + list(ref_norm.parameters()))
    for a, b in zip(g, gr):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
    if train and norm_cfg['type'] == 'BN':  # running stats updated per stream
        for a, b in zip(norm.norms, ref_norm.norms):
            torch.testing.assert_close(a.running_mean, b.running_mean)


def test_exchange_after_norm_uses_other_streams_post_norm_values():
    M, N, C = 3, 2, 6
    norm = ModalityNorm(C, M, norm_cfg=dict(type='BN'), exchange=True, threshold=0.1)
    _randomize(norm)
    norm.eval()
    norm.norms[1].weight.data[2] = 0.01  # stream 1 owns channels [2, 4)
    norm.norms[1].weight.data[0] = 0.01  # not its sub-part: not exchanged
    x = torch.randn(M * N, C, 3, 3)
    post = _reference(norm, x).view(M, N, C, 3, 3)
    out = norm(x).view(M, N, C, 3, 3)
    expected = post.clone()
    expected[1, :, 2] = (post[0, :, 2] + post[2, :, 2]) / 2
    torch.testing.assert_close(out, expected)
    assert norm.exchange_mask().nonzero().tolist() == [[1, 2]]
    norm.exchange_mode = 'all'
    assert norm.exchange_mask().nonzero().tolist() == [[1, 0], [1, 2]]


def test_state_dict_round_trip_and_keys():
    norm = ModalityNorm(4, 2, norm_cfg=dict(type='BN'), exchange=True)
    _randomize(norm)
    sd = norm.state_dict()
    assert {k.split('.', 2)[1] for k in sd} == {'0', '1'}
    assert 'norms.1.running_var' in sd and 'owner_mask' not in sd
    other = ModalityNorm(4, 2, norm_cfg=dict(type='BN'), exchange=True)
    other.load_state_dict(sd)
    for k, v in other.state_dict().items():
        assert torch.equal(v, sd[k])
    torch.testing.assert_close(other.owner_mask, subpart_mask(4, 2))


def test_syncbn_conversion_keeps_private_norms():
    model = nn.Sequential(nn.Conv2d(3, 4, 1),
                          ModalityNorm(4, 2, norm_cfg=dict(type='BN'), exchange=True))
    _randomize(model[1])
    before = model.state_dict()
    converted = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    assert all(isinstance(n, nn.SyncBatchNorm) for n in converted[1].norms)
    for k, v in converted.state_dict().items():
        assert torch.equal(v, before[k])
    converted.eval()  # eval-mode SyncBN takes the frozen affine path
    x = torch.randn(4, 3, 2, 2)
    model_ref = nn.Sequential(nn.Conv2d(3, 4, 1),
                              ModalityNorm(4, 2, norm_cfg=dict(type='BN'), exchange=True))
    model_ref.load_state_dict(before)
    torch.testing.assert_close(converted(x), model_ref.eval()(x))
    # mmcv's SyncBN config builds SyncBatchNorm layers directly
    assert isinstance(ModalityNorm(4, 2, norm_cfg=dict(type='SyncBN')).norms[0],
                      nn.SyncBatchNorm)


def test_shared_norm_ablation_and_hook_interface():
    shared = ModalityNorm(4, 2, shared=True)
    assert len(shared.norms) == 1 and shared.gamma().shape == (2, 4)
    with pytest.raises(ValueError, match='private norms'):
        ModalityNorm(4, 2, shared=True, exchange=True)
    with pytest.raises(ValueError, match='affine'):
        ModalityNorm(4, 2, norm_cfg=dict(type='IN'), exchange=True)
    with pytest.raises(ValueError, match='stacked along the batch'):
        ModalityNorm(4, 2)(torch.randn(3, 4, 2, 2))
    model = nn.ModuleDict(dict(a=ModalityNorm(4, 2, exchange=True), b=ModalityNorm(4, 2)))
    assert [n for n, _ in iter_exchanging_norms(model)] == ['a']
