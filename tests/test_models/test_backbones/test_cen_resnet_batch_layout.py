"""CENResNet's ``batch_layout``: which layout the default picks, the errors, and that
a sample-major network computes what the stream-major one does (same state dict,
outputs bit-identical, gradients equal up to summation order)."""
import pytest
import torch

from cen_mm.core import ModalityNorm
from cen_mm.models.backbones import CENResNet
from cen_mm.utils.benchmark.model_pair import set_exchange_fraction
from tests.fixtures.threads import single_thread  # noqa: F401 (autouse)


def layout_of(**kwargs):
    cfg = dict(depth=18, in_channels=(3, 1))
    cfg.update(kwargs)
    model = CENResNet(**cfg)
    norms = [m for m in model.modules() if isinstance(m, ModalityNorm)]
    assert norms and all(n.sample_major == (model.batch_layout == 'sample_major')
                         for n in norms)
    return model.batch_layout


def test_default_layout():
    # the papers' models: frozen BN, shared convs, threshold rule, mean replacement
    assert layout_of(norm_eval=True) == 'sample_major'
    assert layout_of(norm_eval=True, norm_cfg=dict(type='SyncBN')) == 'sample_major'
    assert layout_of(norm_eval=True, exchange=False) == 'sample_major'
    # anything else stays stream-major
    assert layout_of() == 'stream_major'  # BN collecting batch statistics
    assert layout_of(norm_eval=True, norm_cfg=dict(type='GN', num_groups=8)) == \
        'stream_major'
    assert layout_of(norm_eval=True, shared_convs=False) == 'stream_major'
    assert layout_of(norm_eval=True, exchange=False, shared_norms=True) == \
        'stream_major'
    assert layout_of(norm_eval=True, exchange_policy=dict(
        type='fixed_ratio', ratio=0.3)) == 'stream_major'
    assert layout_of(norm_eval=True, exchange_replacement=dict(type='zero')) == \
        'stream_major'
    assert layout_of(norm_eval=True, batch_layout='stream_major') == 'stream_major'
    assert layout_of(batch_layout='sample_major') == 'sample_major'


def test_layout_errors():
    with pytest.raises(ValueError, match="batch_layout must be one of"):
        layout_of(batch_layout='streams')
    with pytest.raises(ValueError, match="'sample_major' needs shared convs"):
        layout_of(batch_layout='sample_major', shared_convs=False)


def test_fusion_subclasses_stay_stream_major():
    from cen_mm.seg.models.backbones import FusionResNet, StageFusionCENResNet
    fusion = dict(fusion=dict(type='ConcatFusion'), fusion_stages='late')
    for cls in (StageFusionCENResNet, FusionResNet):
        model = cls(depth=18, in_channels=(3, 1), norm_eval=True, shared_convs=True,
                    **fusion)
        assert model.batch_layout == 'stream_major'
        with pytest.raises(ValueError, match='a class that supports it'):
            cls(depth=18, in_channels=(3, 1), norm_eval=True, shared_convs=True,
                batch_layout='sample_major', **fusion)


@pytest.mark.parametrize('in_channels,deep_stem', [((3, 1), False),
                                                   ((3, 1, 1), True)])
def test_sample_major_network_matches_stream_major(in_channels, deep_stem):
    M = len(in_channels)
    cfg = dict(depth=18, in_channels=in_channels, norm_eval=True, deep_stem=deep_stem)
    torch.manual_seed(0)
    stream = CENResNet(batch_layout='stream_major', **cfg)
    sample = CENResNet(**cfg)
    assert sample.batch_layout == 'sample_major'
    assert stream.state_dict().keys() == sample.state_dict().keys()
    with torch.no_grad():
        for t in list(stream.parameters()) + list(stream.buffers()):
            if t.is_floating_point() and t.dim() == 1:  # γ, β, running statistics
                t.uniform_(0.5, 1.5)
    set_exchange_fraction(stream, 0.3, 0)  # γ = 1, 30 % of each sub-part below θ
    sample.load_state_dict(stream.state_dict())
    stream.train(), sample.train()
    x = torch.randn(2, sum(in_channels), 48, 48,
                    generator=torch.Generator().manual_seed(1))
    outs = {}
    for key, model in (('stream', stream), ('sample', sample)):
        xi = x.clone().requires_grad_()
        out = model(xi)
        loss = sum((t * torch.linspace(-1, 1, t.numel()).view(t.shape)).sum()
                   for t in out.stacked)
        loss.backward()
        outs[key] = ([t.detach() for t in out.stacked], xi.grad,
                     [p.grad for p in model.parameters()])
    (levels, x_grad, grads), (levels_s, x_grad_s, grads_s) = outs['stream'], \
        outs['sample']
    assert len(levels) == len(levels_s) == 4
    for a, b in zip(levels, levels_s):  # returned stream-major, same values
        assert a.shape[0] == M * 2 and torch.equal(a, b)
    torch.testing.assert_close(x_grad_s, x_grad, rtol=1e-4, atol=1e-5)
    for a, b in zip(grads, grads_s):
        torch.testing.assert_close(b, a, rtol=1e-4, atol=1e-5 * a.abs().max().item())
    assert sum(n.exchange_mask().sum().item() for n in sample.modules()
               if isinstance(n, ModalityNorm) and n.exchange) > 0
    stream.eval(), sample.eval()
    with torch.no_grad():
        for a, b in zip(stream(x).stacked, sample(x).stacked):
            assert torch.equal(a, b)
