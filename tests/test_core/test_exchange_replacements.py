"""Exchange replacements (TPAMI'23 Table 12, NeurIPS'20 §4.1): values against hand
computation, values and gradients against a plain reference loop, parameter counts,
ModalityNorm wiring and errors."""
import pytest
import torch

from cen_mm.core import ModalityNorm
from cen_mm.core.exchange import channel_exchange
from cen_mm.core.exchange_replacements import (EXCHANGE_REPLACEMENTS,
                                               build_exchange_replacement)

M, C = 3, 6  # sub-parts [0, 2), [2, 4), [4, 6)


def _labelled(num_streams=M, channels=C, n=1, length=1):
    """x[m, :, c, :] = 10*m + c (readable hand computations)."""
    values = (10 * torch.arange(num_streams)[:, None] + torch.arange(channels)[None])
    return values.float()[:, None, :, None].expand(num_streams, n, channels,
                                                   length).clone()


def _mask(pairs, num_streams=M, channels=C):
    mask = torch.zeros(num_streams, channels, dtype=torch.bool)
    for m, c in pairs:
        mask[m, c] = True
    return mask


PAIRS = [(0, 1), (1, 2), (2, 5)]


def _build(type_, num_streams=M, channels=C, **kwargs):
    return EXCHANGE_REPLACEMENTS.build(dict(type=type_, num_streams=num_streams,
                                            num_features=channels, **kwargs))


def _replaced(type_, expected, gamma=None, **kwargs):
    out = _build(type_, **kwargs)(_labelled(), _mask(PAIRS), gamma)
    for (m, c), value in zip(PAIRS, expected):
        assert out[m, 0, c, 0].item() == pytest.approx(value), (type_, m, c)
    untouched = ~_mask(PAIRS)[:, None, :, None].expand_as(out)
    assert torch.equal(out[untouched], _labelled()[untouched])


def test_hand_computed_values():
    _replaced('zero', [0, 0, 0])
    _replaced('mean_others', [(11 + 21) / 2, (2 + 22) / 2, (5 + 15) / 2])
    _replaced('ith_one_other', [11, 22, 5])
    _replaced('ith_one_other', [21, 2, 15], offset=2)
    # [a]: same offset in the other sub-parts of the same stream
    _replaced('same_evenly_spaced', [(3 + 5) / 2, (10 + 14) / 2, (21 + 23) / 2])
    # [c]: those channels of the other streams; [c]+[d]: and channel i
    _replaced('others_evenly_spaced', [(13 + 15 + 23 + 25) / 4,
                                       (0 + 4 + 20 + 24) / 4,
                                       (1 + 3 + 11 + 13) / 4])
    _replaced('others_evenly_spaced_and_ith', [(11 + 13 + 15 + 21 + 23 + 25) / 6,
                                               (0 + 2 + 4 + 20 + 22 + 24) / 6,
                                               (1 + 3 + 5 + 11 + 13 + 15) / 6])
    _replaced('sum', [1 + 11 + 21, 12 + 2 + 22, 25 + 5 + 15])
    _replaced('gated_sum', [1 + 0.5 * 32, 12 + 0.5 * 24, 25 + 0.5 * 20])
    _replaced('weighted_others', [16, 12, 10])  # init: the mean
    _replaced('concat_conv', [16, 12, 10])  # init: the mean


def test_largest_gamma_unused_channels():
    gamma = torch.tensor([[.9, .0, .5, .4, .3, .2],
                          [.1, .8, .0, .7, .6, .95],
                          [.3, .2, .1, .6, .5, .0]])
    # stream 1 unused by |γ|: 5, 1, 3, 4, 0 (2 replaced); stream 2: 3, 4, 0, 1, 2 (5
    # replaced); stream 0: 0, 2, 3, 4, 5 (1 replaced); every stream replaces 1 channel
    _replaced('others_largest_gamma', [(15 + 23) / 2, (0 + 23) / 2, (0 + 15) / 2],
              gamma=gamma)
    # two replaced channels in stream 0: the k-th takes the k-th largest unused
    mask = _mask([(0, 0), (0, 1), (1, 2)])
    out = _build('others_largest_gamma')(_labelled(), mask, gamma)
    assert out[0, 0, 0, 0].item() == pytest.approx((15 + 23) / 2)
    assert out[0, 0, 1, 0].item() == pytest.approx((11 + 24) / 2)


def test_random_channel_region_and_seed():
    a, b, c = (_build('same_random', seed=s) for s in (0, 0, 1))
    assert torch.equal(a.source_channels, b.source_channels)
    assert not torch.equal(a.source_channels, c.source_channels)
    assert torch.equal(a.source_streams[:, :, 0], torch.arange(M)[:, None].expand(M, C))
    for i in range(C):  # never inside the sub-part of i ("region [b]")
        part = i // 2
        chosen = a.source_channels[:, i, 0]
        assert ((chosen < 2 * part) | (chosen >= 2 * part + 2)).all()
    assert 'source_channels' in a.state_dict()  # the draw is saved with the model
    out = a(_labelled(), _mask(PAIRS), None)
    for m, i in PAIRS:
        assert out[m, 0, i, 0] == 10 * m + a.source_channels[m, i, 0]


def test_learned_weights_parametrisation_and_counts():
    weighted = _build('weighted_others')
    conv = _build('concat_conv')
    gated = _build('gated_sum')
    count = lambda mod: sum(p.numel() for p in mod.parameters())  # noqa: E731
    assert count(weighted) == M * C * (M - 1)
    assert count(conv) == M * C * (M - 1) + M * C
    assert count(gated) == M * C
    for name in ('zero', 'mean_others', 'ith_one_other', 'same_evenly_spaced',
                 'same_random', 'others_evenly_spaced', 'others_evenly_spaced_and_ith',
                 'others_largest_gamma', 'sum'):
        assert count(_build(name)) == 0, name
    with torch.no_grad():
        weighted.logits[0, 1] = torch.tensor([0.0, torch.log(torch.tensor(3.0))])
        conv.weight[0, 1] = torch.tensor([2.0, -1.0])
        conv.bias_param[0, 1] = 0.5
        gated.gate[0, 1] = 2.0
    x, mask = _labelled(), _mask(PAIRS)
    assert weighted(x, mask, None)[0, 0, 1, 0].item() == pytest.approx(
        0.25 * 11 + 0.75 * 21)
    assert conv(x, mask, None)[0, 0, 1, 0].item() == pytest.approx(
        2 * 11 - 21 + 0.5)
    assert gated(x, mask, None)[0, 0, 1, 0].item() == pytest.approx(
        1 + torch.sigmoid(torch.tensor(2.0)).item() * 32)


def test_two_streams_weighted_average_is_cen():
    """TPAMI Table 12, 2 inputs: "Same with CEN" — softmax over one stream is 1."""
    weighted = _build('weighted_others', num_streams=2, channels=4)
    with torch.no_grad():
        weighted.logits.normal_()
    x = torch.randn(2, 2, 4, 5)
    mask = _mask([(0, 1), (1, 3)], 2, 4)
    assert torch.allclose(weighted(x, mask, None), channel_exchange(x.clone(), mask))


def test_sum_scope_all_sums_every_channel():
    out = _build('sum', scope='all')(_labelled(), _mask([]), None)
    total = _labelled().sum(0, keepdim=True)
    assert torch.equal(out, total.expand_as(out))
    with pytest.raises(TypeError, match='scope'):  # only the sums offer it
        _build('weighted_others', scope='all')
    with pytest.raises(ValueError, match="scope must be one of"):
        _build('sum', scope='every')


# ---- values and gradients against a reference loop ------------------------------------
def _bounds(channels, streams):
    return [m * channels // streams for m in range(streams + 1)]


def _spaced(i, channels, streams):
    """Same-offset channels in the other sub-parts (the documented reading)."""
    b = _bounds(channels, streams)
    p = [q for q in range(streams) if b[q] <= i < b[q + 1]][0]
    return [b[q] + min(i - b[p], b[q + 1] - b[q] - 1) for q in range(streams) if q != p]


def _reference(type_, module, x, mask, gamma):
    """Per (stream, channel) loop: the replaced pair is a weighted sum of sources."""
    num_streams, _, channels = x.shape[:3]
    others = lambda m: [k for k in range(num_streams) if k != m]  # noqa: E731
    rows = []
    rank = {}
    for m in range(num_streams):
        row = []
        for i in range(channels):
            if not mask[m, i] and not (type_ == 'sum' and module.scope == 'all'):
                row.append(x[m, :, i])
                continue
            k = rank[m] = rank.get(m, -1) + 1
            if type_ == 'zero':
                row.append(torch.zeros_like(x[m, :, i]))
                continue
            if type_ in ('mean_others', 'weighted_others', 'concat_conv'):
                terms = [(s, i) for s in others(m)]
                if type_ == 'mean_others':
                    w = [1 / len(terms)] * len(terms)
                elif type_ == 'weighted_others':
                    w = list(module.logits[m, i].softmax(0))
                else:
                    w = list(module.weight[m, i])
            elif type_ == 'ith_one_other':
                terms, w = [((m + 1) % num_streams, i)], [1.0]
            elif type_ == 'same_evenly_spaced':
                terms = [(m, j) for j in _spaced(i, channels, num_streams)]
                w = [1 / len(terms)] * len(terms)
            elif type_ == 'same_random':
                terms, w = [(m, int(module.source_channels[m, i, 0]))], [1.0]
            elif type_ in ('others_evenly_spaced', 'others_evenly_spaced_and_ith'):
                extra = [i] if type_.endswith('ith') else []
                terms = [(s, j) for s in others(m)
                         for j in extra + _spaced(i, channels, num_streams)]
                w = [1 / len(terms)] * len(terms)
            elif type_ == 'others_largest_gamma':
                terms = []
                for s in others(m):
                    unused = sorted((c for c in range(channels) if not mask[s, c]),
                                    key=lambda c: (-abs(float(gamma[s, c])), c))
                    terms.append((s, unused[k % len(unused)]))
                w = [1 / len(terms)] * len(terms)
            elif type_ in ('sum', 'gated_sum'):
                terms = [(m, i)] + [(s, i) for s in others(m)]
                g = (torch.sigmoid(module.gate[m, i]) if type_ == 'gated_sum'
                     else 1.0)
                w = [1.0] + [g] * (num_streams - 1)
            value = sum(wt * x[s, :, j] for wt, (s, j) in zip(w, terms))
            if type_ == 'concat_conv':
                value = value + module.bias_param[m, i]
            row.append(value)
        rows.append(torch.stack(row, dim=1))
    return torch.stack(rows)


ALL_TYPES = sorted(EXCHANGE_REPLACEMENTS.module_dict)


@pytest.mark.parametrize('num_streams,channels', [(2, 4), (3, 7), (4, 8)])
@pytest.mark.parametrize('type_', ALL_TYPES + ['sum_all'])
def test_values_and_gradients_match_reference_loop(type_, num_streams, channels):
    torch.manual_seed(num_streams * 100 + channels)
    kwargs = {}
    if type_ == 'sum_all':
        type_, kwargs = 'sum', dict(scope='all')
    module = _build(type_, num_streams, channels, **kwargs)
    with torch.no_grad():
        for p in module.parameters():
            p.normal_()
    x = torch.randn(num_streams, 2, channels, 3, requires_grad=True)
    mask = torch.rand(num_streams, channels) < 0.4
    mask[0, 0] = True
    gamma = torch.rand(num_streams, channels)
    out = module(x, mask, gamma)
    ref = _reference(type_, module, x, mask, gamma)
    assert torch.allclose(out, ref, atol=1e-6)
    upstream = torch.randn_like(out)
    params = [x] + list(module.parameters())
    grads = torch.autograd.grad(out, params, upstream)
    ref_grads = torch.autograd.grad(ref, params, upstream, allow_unused=True)
    for g, r in zip(grads, ref_grads):
        assert torch.allclose(g, torch.zeros_like(g) if r is None else r, atol=1e-5)


@pytest.mark.parametrize('type_', ['zero', 'ith_one_other', 'weighted_others',
                                   'concat_conv', 'others_evenly_spaced'])
def test_replaced_value_gets_no_gradient(type_):
    """Only (0, 1) is replaced: its own input gets no gradient, the sources do."""
    x = torch.randn(2, 1, 4, 3, requires_grad=True)
    out = _build(type_, 2, 4)(x, _mask([(0, 1)], 2, 4), torch.rand(2, 4))
    upstream = torch.randn_like(out)
    (grad, ) = torch.autograd.grad(out, x, upstream)
    assert (grad[0, :, 1] == 0).all()
    if type_ != 'zero':
        source = 3 if type_ == 'others_evenly_spaced' else 1
        assert torch.allclose(grad[1, :, source] - upstream[1, :, source],
                              upstream[0, :, 1])


def test_nothing_replaced_returns_input():
    x = torch.randn(3, 1, 6, 2)
    for type_ in ALL_TYPES:
        assert _build(type_)(x, _mask([]), torch.rand(3, 6)) is x, type_


# ---- ModalityNorm wiring --------------------------------------------------------------
def _norm(replacement, threshold=0.5, **kwargs):
    torch.manual_seed(0)
    norm = ModalityNorm(6, 3, norm_cfg=dict(type='BN'), exchange=True,
                        threshold=threshold, exchange_replacement=replacement, **kwargs)
    with torch.no_grad():
        for layer in norm.norms:
            layer.weight.uniform_(0.0, 1.0)
            layer.bias.normal_()
    return norm


def test_default_replacement_is_the_fast_path():
    assert _norm(None).exchange_replacement is None
    assert _norm(dict(type='mean_others')).exchange_replacement is None
    x = torch.randn(6, 6, 4, 4)
    default, spelled = _norm(None), _norm(dict(type='mean_others'))
    assert torch.equal(default(x), spelled(x))


@pytest.mark.parametrize('train', [True, False])
def test_modality_norm_uses_the_replacement(train):
    x = torch.randn(6, 6, 4, 4)
    norm = _norm(dict(type='zero')).train(train)
    plain = ModalityNorm(6, 3, norm_cfg=dict(type='BN'))
    plain.load_state_dict(norm.state_dict())
    plain.train(train)
    mask = norm.exchange_mask()
    assert mask.any() and not mask.all()
    with torch.no_grad():
        out, ref = norm(x).view(3, 2, 6, 16), plain(x).view(3, 2, 6, 16)
    replaced = mask[:, None, :, None].expand_as(out)
    assert (out[replaced] == 0).all()
    assert torch.allclose(out[~replaced], ref[~replaced])


def test_modality_norm_learned_replacement_trains():
    norm = _norm(dict(type='concat_conv'))
    assert {'exchange_replacement.weight', 'exchange_replacement.bias_param'} <= set(
        norm.state_dict())
    norm(torch.randn(6, 6, 4, 4)).square().sum().backward()
    mask = norm.exchange_mask()
    grad = norm.exchange_replacement.bias_param.grad
    assert (grad[mask] != 0).all() and (grad[~mask] == 0).all()


def test_errors_name_the_problem():
    with pytest.raises(KeyError, match="'nope'.*expected one of"):
        build_exchange_replacement(dict(type='nope'), 2, 4)
    with pytest.raises(TypeError, match='"type" key'):
        build_exchange_replacement('zero', 2, 4)
    with pytest.raises(ValueError, match='needs exchange=True'):
        ModalityNorm(4, 2, exchange=False, exchange_replacement=dict(type='zero'))
    with pytest.raises(ValueError, match='offset 3 picks the stream itself'):
        _build('ith_one_other', offset=3)


def test_replacement_follows_the_exchange_policy():
    """exchange_policy (which pairs) composes with exchange_replacement (what)."""
    x = torch.randn(6, 6, 4, 4)
    norm = _norm(dict(type='zero'), exchange_policy=dict(type='fixed_ratio', ratio=0.5))
    plain = ModalityNorm(6, 3, norm_cfg=dict(type='BN'))
    plain.load_state_dict(norm.state_dict())
    out, ref = norm(x).view(3, 2, 6, 16), plain(x).view(3, 2, 6, 16)
    first_of_each_subpart = _mask([(0, 0), (1, 2), (2, 4)])
    assert torch.equal(norm.exchange_mask(), first_of_each_subpart)
    replaced = first_of_each_subpart[:, None, :, None].expand_as(out)
    assert (out[replaced] == 0).all()
    assert torch.allclose(out[~replaced], ref[~replaced])
    # a random policy's test-time expectation blends: (1 - p)·y + p·0, p = 1/2
    norm = _norm(dict(type='zero'), exchange_policy=dict(type='random', ratio=0.5))
    plain.load_state_dict(norm.state_dict())
    norm.eval(), plain.eval()
    with torch.no_grad():
        out, ref = norm(x).view(3, 2, 6, 16), plain(x).view(3, 2, 6, 16)
    own = _mask([(0, 0), (0, 1), (1, 2), (1, 3), (2, 4), (2, 5)])
    own = own[:, None, :, None].expand_as(out)
    assert torch.allclose(out[own], 0.5 * ref[own])
    assert torch.allclose(out[~own], ref[~own])


def test_models_forward_the_replacement_to_exchanging_norms_only():
    from cen_mm.core import iter_exchanging_norms
    from cen_mm.models.backbones import CENResNet
    from cen_mm.models.generators import CENUnetGenerator
    replacement = dict(type='weighted_others')
    resnet = CENResNet(18, in_channels=(3, 1, 1), base_channels=4, stem_channels=4,
                       exchange_replacement=replacement)
    unet = CENUnetGenerator(num_inputs=3, num_down=4, base_channels=4,
                            exchange_replacement=replacement)
    for model in (resnet, unet):
        exchanging = {name for name, _ in iter_exchanging_norms(model)}
        assert exchanging
        for name, module in model.named_modules():
            if isinstance(module, ModalityNorm):
                has = module.exchange_replacement is not None
                assert has == (name in exchanging), name
                if has:
                    assert module.exchange_replacement.logits.shape == (
                        3, module.num_features, 2)
    out = resnet(torch.randn(2, 5, 32, 32))
    assert out.stream(0)[-1].shape == (2, 32, 1, 1)


def test_single_stream_checkpoint_inflates_around_learned_replacements():
    """The replacement's parameters have no single-stream counterpart: inflation keeps
    their own initialisation (CEN's mean) instead of reporting them missing."""
    from cen_mm.models.backbones import CENResNet
    from cen_mm.models.backbones.checkpoint_inflation import \
        load_single_stream_state_dict
    single = CENResNet(18, in_channels=(3, ), base_channels=4, stem_channels=4,
                       exchange=False)
    state = {k.replace('.norms.0.', '.'): v for k, v in single.state_dict().items()}
    model = CENResNet(18, in_channels=(3, 1), base_channels=4, stem_channels=4,
                      exchange_replacement=dict(type='concat_conv'))
    load_single_stream_state_dict(model, state)
    assert torch.equal(model.layer1[0].bn1.norms[1].weight, state['layer1.0.bn1.weight'])
    replacement = model.layer1[0].bn1.exchange_replacement
    assert (replacement.weight == 1).all() and (replacement.bias_param == 0).all()


def test_layer_norm_exchange_rejects_a_replacement():
    from cen_mm.models.backbones.multi_stream_backbone import private_norm
    with pytest.raises(ValueError, match="LayerNorm: exchange_replacement"):
        private_norm(torch.nn.LayerNorm(8), 2, True, 0.02, 'subpart', name='ln',
                     exchange_replacement=dict(type='zero'))
    norm = private_norm(torch.nn.BatchNorm2d(8), 2, True, 0.02, 'subpart',
                        exchange_replacement=dict(type='sum'))
    assert type(norm.exchange_replacement).__name__ == 'SumReplacement'
