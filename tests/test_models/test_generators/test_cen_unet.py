"""CENUnetGenerator / StreamGridNorm / CENPatchDiscriminator.

References: mmagic's UnetGenerator and PatchDiscriminator (independent implementations of
the same Pix2Pix networks) with copied weights, the parameter counts printed in TPAMI'23
Tables 6-8, and direct formulas for the grid norm's exchange.
"""
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from cen_mm.core import ModalityNorm, iter_exchanging_norms, subpart_mask
from cen_mm.models.generators import (CENPatchDiscriminator, CENUnetGenerator,
                                      StreamGridNorm, unet_channels)
from tests.fixtures.threads import single_thread  # noqa: F401 (autouse)

IN_AFFINE = dict(type='IN', affine=True)


def randomize_affine(module, seed=0, low=0.5, high=1.5):
    """γ in [low, high] (> θ, so no exchange unless a test sets it), β ~ N(0, 0.1)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, nn.InstanceNorm2d) and m.weight is not None:
                gamma = torch.rand(m.weight.shape, generator=g) * (high - low) + low
                m.weight.copy_(gamma)
                m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.1)


def tiny(**kw):
    cfg = dict(num_down=4, base_channels=4, use_dropout=False)
    cfg.update(kw)
    gen = CENUnetGenerator(**cfg)
    gen.init_weights()
    randomize_affine(gen)
    return gen


# ---- shapes and structure --------------------------------------------------------------
@pytest.mark.parametrize('num_inputs,num_tasks,kw', [
    (2, 1, {}),                                                     # fusion
    (3, 1, {}),                                                     # fusion, 3 inputs
    (1, 2, dict(separate_decoders=True, decoder_exchange=True)),    # multitask CEN-dec
    (2, 2, dict(separate_decoders=True, decoder_exchange=True)),    # MM-multitask
    (2, 3, dict(separate_decoders=True)),                           # cycle, dec x3
    (2, 3, dict(decoder_norms='task')),                             # cycle, dec x1
])
def test_output_shapes_and_ensemble(num_inputs, num_tasks, kw):
    gen = tiny(num_inputs=num_inputs, num_tasks=num_tasks, out_channels=2, **kw)
    with torch.no_grad():
        gen.alpha.normal_() if gen.alpha is not None else None
    n = 3
    x = torch.randn(num_tasks * num_inputs * n, 3, 16, 16)
    out = gen(x)
    streams, ens = out['streams'], out['ensemble']
    assert streams.shape == (num_tasks, num_inputs, n, 2, 16, 16)
    assert ens.shape == (num_tasks, n, 2, 16, 16)
    assert streams.abs().max() <= 1  # tanh
    if num_inputs == 1:
        assert torch.equal(ens, streams[:, 0])
    else:
        w = torch.softmax(gen.alpha, dim=1)
        expected = sum(w[:, m, None, None, None, None] * streams[:, m]
                       for m in range(num_inputs))
        torch.testing.assert_close(ens, expected)
        # the ensemble trains α only: no gradient reaches the streams through it
        ens.sum().backward()
        assert gen.alpha.grad is not None and gen.alpha.grad.abs().sum() > 0
        assert all(p.grad is None for n_, p in gen.named_parameters()
                   if n_ != 'ensemble.alpha')


def _exchanging(gen):
    return {name: (m.num_streams, m.exchange_mode)
            for name, m in iter_exchanging_norms(gen)}


def test_exchange_placement_per_variant():
    n = 5  # levels: encoder norms at 1..3, decoder norms at 1..4
    fusion = tiny(num_down=n, num_inputs=2)
    assert _exchanging(fusion) == {f'down_norms.{i}.groups.0': (2, 'subpart')
                                   for i in range(n - 2)}
    assert all(len(norm.groups) == 1 and len(norm.groups[0].norms) == 1
               for norm in fusion.up_norms)  # paper: decoder INs shared

    official = tiny(num_down=n, num_inputs=2, decoder_norms='stream')
    assert all(len(norm.groups[0].norms) == 2 and not norm.groups[0].exchange
               for norm in official.up_norms)

    multitask = tiny(num_down=n, num_inputs=1, num_tasks=2, separate_decoders=True,
                     decoder_exchange=True)
    assert _exchanging(multitask) == {f'up_norms.{k}.groups.0': (2, 'subpart')
                                      for k in range(n - 1)}
    # encoder: convs shared, one private IN per task stream, no exchange
    assert all([len(g.norms) for g in norm.groups] == [1, 1]
               for norm in multitask.down_norms)
    assert len(multitask.up_convs) == 2

    mmt = tiny(num_down=n, num_inputs=2, num_tasks=2, separate_decoders=True,
               encoder_exchange=True, decoder_exchange=True)
    expected = {f'down_norms.{i}.groups.{t}': (2, 'subpart')
                for i in range(n - 2) for t in range(2)}
    expected.update({f'up_norms.{k}.groups.0': (2, 'subpart') for k in range(n - 1)})
    assert _exchanging(mmt) == expected
    # IN x4 in the encoder (T*M private sets)
    assert sum(len(g.norms) for g in mmt.down_norms[0].groups) == 4

    mmt_official = tiny(num_down=n, num_inputs=2, num_tasks=2, separate_decoders=True,
                        decoder_norms='stream', decoder_exchange=True,
                        encoder_exchange=False)
    assert _exchanging(mmt_official) == {f'up_norms.{k}.groups.{m}': (2, 'subpart')
                                         for k in range(n - 1) for m in range(2)}

    cycle = tiny(num_down=n, num_inputs=2, num_tasks=3, separate_decoders=True)
    assert _exchanging(cycle) == {f'down_norms.{i}.groups.{t}': (2, 'subpart')
                                  for i in range(n - 2) for t in range(3)}
    # M(M+1) = 6 IN sets in the encoder
    assert sum(len(g.norms) for g in cycle.down_norms[0].groups) == 6


@pytest.mark.parametrize('kw,params_m', [
    (dict(num_inputs=2, num_tasks=3, decoder_norms='task'), 54.5),   # Table 6 dec x1
    (dict(num_inputs=1, num_tasks=2, separate_decoders=True), 89.3),  # Table 7
    (dict(num_inputs=2, num_tasks=3, separate_decoders=True), 124.2),  # Table 6 dec x3
])  # (Table 8 prints 124.3 for the same enc x1 / dec x3 structure: 0.1 M rounding)
def test_unet256_parameter_counts_match_the_paper(kw, params_m):
    with torch.device('meta'):
        gen = CENUnetGenerator(num_down=8, base_channels=64, **kw)
    total = sum(p.numel() for p in gen.parameters())
    assert total / 1e6 == pytest.approx(params_m, abs=0.06)


def test_discriminator_parameter_count_and_shape():
    with torch.device('meta'):
        disc = CENPatchDiscriminator(in_channels=6)
    # conv 6->64, 64->128, 128->256, 256->512 (k4, +bias), 3 affine INs, conv 512->1
    convs = [(6, 64), (64, 128), (128, 256), (256, 512), (512, 1)]
    expected = sum(i * o * 16 + o for i, o in convs) + 2 * (128 + 256 + 512)
    assert sum(p.numel() for p in disc.parameters()) == expected
    small = CENPatchDiscriminator(in_channels=6, base_channels=4)
    assert small(torch.randn(2, 6, 64, 64)).shape == (2, 1, 6, 6)


# ---- equality with mmagic's single-stream networks -------------------------------------
def _mmagic_unet_blocks(unet):
    """mmagic UnetSkipConnectionBlocks from the outermost (level 0) inwards."""
    blocks, block = [], unet.model
    while True:
        blocks.append(block)
        inner = [m for m in block.model
                 if m.__class__.__name__ == 'UnetSkipConnectionBlock']
        if not inner:
            return blocks
        block = inner[0]


def load_from_mmagic_unet(gen, unet, enc_norms_of_stream=None):
    """Copy mmagic UnetGenerator weights into a CEN generator (every private norm gets
    the single network's values). mmagic concatenates [skip, up] while the CEN U-Net
    (like the official code) concatenates [up, skip]: permute the input channels."""
    n = gen.num_down
    blocks = _mmagic_unet_blocks(unet)
    assert len(blocks) == n
    with torch.no_grad():
        for i, block in enumerate(blocks):
            down, up = block.model[0], [m for m in block.model
                                        if m.__class__.__name__ == 'ConvModule'][-1]
            gen.down_convs[i].weight.copy_(down.conv.weight)
            gen.down_convs[i].bias.copy_(down.conv.bias)
            w = up.conv.weight  # (in, out, k, k)
            if i < n - 1:
                half = w.shape[0] // 2
                w = torch.cat([w[half:], w[:half]])
            for convs in gen.up_convs:
                convs[i].weight.copy_(w)
                convs[i].bias.copy_(up.conv.bias)
            if 0 < i < n - 1:
                for m in gen.down_norms[i - 1].modules():
                    if isinstance(m, nn.InstanceNorm2d):
                        m.weight.copy_(down.norm.weight)
                        m.bias.copy_(down.norm.bias)
            if i > 0:
                for m in gen.up_norms[i - 1].modules():
                    if isinstance(m, nn.InstanceNorm2d):
                        m.weight.copy_(up.norm.weight)
                        m.bias.copy_(up.norm.bias)


@pytest.fixture
def mmagic_scope():
    """mmagic's U-Net builds its 'Deconv' layers from the mmagic registry."""
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('mmagic'):
        yield


def test_single_stream_equals_mmagic_unet(mmagic_scope):
    from mmagic.models.editors.pix2pix import UnetGenerator
    torch.manual_seed(0)
    unet = UnetGenerator(3, 2, num_down=5, base_channels=4, norm_cfg=IN_AFFINE,
                         use_dropout=False)
    randomize_affine(unet, seed=3)
    for p in unet.parameters():  # conv weights large enough to matter
        if p.dim() == 4:
            nn.init.normal_(p, 0, 0.2)
    gen = CENUnetGenerator(3, 2, num_inputs=1, num_down=5, base_channels=4,
                           use_dropout=False)
    load_from_mmagic_unet(gen, unet)
    x = torch.randn(2, 3, 32, 32)
    torch.testing.assert_close(gen(x)['streams'][0, 0], unet(x.clone()), atol=1e-5,
                               rtol=1e-4)


def test_streams_without_exchange_equal_independent_unets(mmagic_scope):
    """Threshold 0: no channel is exchanged, so each stream is the single U-Net with its
    own encoder INs (here: the same weights => equal to the reference per input)."""
    from mmagic.models.editors.pix2pix import UnetGenerator
    torch.manual_seed(1)
    unet = UnetGenerator(3, 3, num_down=5, base_channels=4, norm_cfg=IN_AFFINE,
                         use_dropout=False)
    randomize_affine(unet, seed=4)
    gen = CENUnetGenerator(num_inputs=2, num_tasks=2, num_down=5, base_channels=4,
                           separate_decoders=True, threshold=0.0, use_dropout=False)
    load_from_mmagic_unet(gen, unet)
    x = torch.randn(2 * 2 * 2, 3, 32, 32)
    streams = gen(x)['streams']
    for s in range(4):
        t, m = divmod(s, 2)
        torch.testing.assert_close(streams[t, m], unet(x[2 * s:2 * s + 2].clone()),
                                   atol=1e-5, rtol=1e-4)


def test_patch_discriminator_equals_mmagic():
    from mmagic.models.archs import PatchDiscriminator
    ref = PatchDiscriminator(6, base_channels=4, num_conv=3, norm_cfg=IN_AFFINE)
    randomize_affine(ref, seed=5)
    disc = CENPatchDiscriminator(6, base_channels=4, num_conv=3)
    ours = [m for m in disc.modules() if isinstance(m, (nn.Conv2d, nn.InstanceNorm2d))]
    theirs = [m for m in ref.modules() if isinstance(m, (nn.Conv2d, nn.InstanceNorm2d))]
    assert [type(m) for m in ours] == [type(m) for m in theirs]
    with torch.no_grad():
        for a, b in zip(ours, theirs):
            a.weight.copy_(b.weight)
            if b.bias is not None:
                a.bias.copy_(b.bias)
    x = torch.randn(2, 6, 64, 64)
    torch.testing.assert_close(disc(x), ref(x), atol=1e-5, rtol=1e-4)


# ---- exchange: where it happens and what it mixes --------------------------------------
def _dependence(gen, x, source_rows, target):
    """Does output (task, stream) ``target`` change when the rows ``source_rows`` of the
    input change?"""
    with torch.no_grad():
        base = gen(x)['streams'][target]
        x2 = x.clone()
        x2[source_rows] = torch.randn_like(x2[source_rows])
        return not torch.allclose(gen(x2)['streams'][target], base)


def _set_gamma(norm: ModalityNorm, stream: int, value: float, channels=None):
    with torch.no_grad():
        owner = subpart_mask(norm.num_features, norm.num_streams)[stream]
        idx = owner.nonzero().squeeze(1) if channels is None else channels
        norm.norms[stream].weight[idx] = value


def test_encoder_exchange_couples_the_input_streams():
    gen = tiny(num_inputs=2)
    x = torch.randn(2 * 2, 3, 16, 16)
    stream1 = slice(2, 4)
    assert not _dependence(gen, x, stream1, (0, 0))  # no γ below θ: independent
    # γ of stream 0 in (part of) its sub-part of one encoder layer below θ = 1e-2
    _set_gamma(gen.down_norms[1].groups[0], 0, 1e-3, channels=torch.tensor([0, 2]))
    assert _dependence(gen, x, stream1, (0, 0))      # stream 0 now sees stream 1
    assert not _dependence(gen, x, slice(0, 2), (0, 1))  # stream 1 does not give up any


def test_decoder_exchange_couples_the_task_decoders():
    gen = tiny(num_inputs=1, num_tasks=2, separate_decoders=True, decoder_exchange=True)
    x = torch.randn(2 * 2, 3, 16, 16)
    # the two tasks get the same input; make their decoders differ, then check that
    # task 0's output depends on task 1's decoder only when the decoder exchanges
    def out0():
        with torch.no_grad():
            return gen(x)['streams'][0, 0].clone()

    before = out0()
    with torch.no_grad():
        gen.up_convs[1][1].weight.mul_(-1.5)
    assert torch.allclose(out0(), before)
    _set_gamma(gen.up_norms[2].groups[0], 0, 0.0)
    changed = out0()
    with torch.no_grad():
        gen.up_convs[1][3].weight.mul_(2.0)  # task 1's decoder, before the exchange
    assert not torch.allclose(out0(), changed)


# ---- StreamGridNorm against direct formulas ------------------------------------------
def _inorm(x, weight, bias):
    return F.instance_norm(x, eps=1e-5) * weight[None, :, None, None] + \
        bias[None, :, None, None]


def _grid_params(norm, t, m):
    """(γ, β) the grid norm uses for (task t, input m)."""
    if norm.private == 'shared':
        layer = norm.groups[0].norms[0]
    elif norm.private == 'task':
        layer = norm.groups[0].norms[t]
    elif norm.exchange == 'tasks':
        layer = norm.groups[m].norms[t]
    else:
        layer = norm.groups[t].norms[m]
    return layer.weight, layer.bias


@pytest.mark.parametrize('private,exchange', [
    ('shared', None), ('task', None), ('task', 'tasks'), ('stream', None),
    ('stream', 'inputs'), ('stream', 'tasks')])
def test_grid_norm_matches_direct_formula(private, exchange):
    T, M, N, C = 3, 2, 2, 6
    norm = StreamGridNorm(C, T, M, private=private, exchange=exchange, threshold=0.1)
    randomize_affine(norm, seed=7)
    if exchange is not None:  # some small γ inside and outside the sub-parts
        g = torch.Generator().manual_seed(8)
        with torch.no_grad():
            for m in norm.modules():
                if isinstance(m, nn.InstanceNorm2d):
                    m.weight.mul_((torch.rand(C, generator=g) > 0.4).float())
    x = torch.randn(T * M * N, C, 4, 4)
    y = norm(x).view(T, M, N, C, 4, 4)
    plain = torch.stack([torch.stack([
        _inorm(x.view(T, M, N, C, 4, 4)[t, m], *_grid_params(norm, t, m))
        for m in range(M)]) for t in range(T)])  # (T, M, N, C, 4, 4)
    expected = plain.clone()
    if exchange is not None:
        axis_len = M if exchange == 'inputs' else T
        owner = subpart_mask(C, axis_len)
        for t in range(T):
            for m in range(M):
                gamma = _grid_params(norm, t, m)[0]
                me = m if exchange == 'inputs' else t
                others = [(t, k) for k in range(M) if k != m] if exchange == 'inputs' \
                    else [(k, m) for k in range(T) if k != t]
                mean = sum(plain[o] for o in others) / len(others)
                for c in range(C):
                    if gamma[c].abs() < 0.1 and owner[me, c]:
                        expected[t, m, :, c] = mean[:, c]
    torch.testing.assert_close(y, expected, atol=1e-5, rtol=1e-5)


def test_grid_norm_task_subset_uses_that_tasks_parameters():
    T, M, N, C = 3, 2, 2, 4
    for private in ('task', 'stream'):
        norm = StreamGridNorm(C, T, M, private=private,
                              exchange='inputs' if private == 'stream' else None)
        randomize_affine(norm, seed=9)
        x = torch.randn(T * M * N, C, 4, 4)
        full = norm(x).view(T, M * N, C, 4, 4)
        for subset in ([1], [2, 0]):
            blocks = torch.cat([x.view(T, M * N, C, 4, 4)[t] for t in subset])
            part = norm(blocks, subset).view(len(subset), M * N, C, 4, 4)
            torch.testing.assert_close(part, full[subset])


def test_task_subset_forward_equals_rows_of_full_forward():
    gen = tiny(num_inputs=2, num_tasks=3, separate_decoders=True)
    x = torch.randn(3 * 2 * 2, 3, 16, 16)
    full = gen(x)
    part = gen(x.view(3, 4, 3, 16, 16)[2], tasks=[2])
    torch.testing.assert_close(part['streams'][0], full['streams'][2])
    torch.testing.assert_close(part['ensemble'][0], full['ensemble'][2])


# ---- errors --------------------------------------------------------------------------
def test_bad_configurations_and_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match='num_down must be >= 3'):
        CENUnetGenerator(num_down=2)
    with pytest.raises(ValueError, match="exchange='inputs' needs"):
        CENUnetGenerator(num_inputs=1, encoder_exchange=True, num_down=4)
    with pytest.raises(ValueError, match="exchange='tasks' needs"):
        CENUnetGenerator(num_tasks=1, decoder_exchange=True, num_down=4)
    with pytest.raises(ValueError, match="decoder_norms='shared'"):
        CENUnetGenerator(num_tasks=2, separate_decoders=True, decoder_norms='shared',
                         num_down=4)
    gen = tiny(num_inputs=2, num_tasks=2, separate_decoders=True, decoder_exchange=True)
    with pytest.raises(ValueError, match='not a multiple'):
        gen(torch.randn(6, 3, 16, 16))
    with pytest.raises(ValueError, match='divisible by 16'):
        gen(torch.randn(4, 3, 24, 24))
    with pytest.raises(ValueError, match='needs all tasks'):
        gen(torch.randn(2, 3, 16, 16), tasks=[1])


def test_unet_channels():
    assert unet_channels(8, 64) == [64, 128, 256, 512, 512, 512, 512, 512]


def test_dropout_on_the_three_decoder_levels_after_the_bottleneck():
    with torch.device('meta'):
        gen = CENUnetGenerator(num_down=8)
    # Pix2Pix paper / official CEN code: CD512-CD512-CD512 right after the bottleneck
    assert [k for k in range(8) if gen._dropout_at(k)] == [5, 6, 7]
    small = tiny(num_inputs=2, use_dropout=True, num_dropout=2)
    x = torch.randn(4, 3, 16, 16)
    small.train()
    assert not torch.equal(small(x)['streams'], small(x)['streams'])
    small.eval()
    assert torch.equal(small(x)['streams'], small(x)['streams'])


def test_checkpoint_with_top_level_alpha_loads_strictly():
    """Generators saved before the ensemble module hold ``alpha`` (T, M) at the top."""
    gen = tiny(num_inputs=2, num_tasks=2)
    state = {('alpha' if k == 'ensemble.alpha' else k): v
             for k, v in gen.state_dict().items()}
    state['alpha'] = torch.tensor([[0.1, 0.2], [0.3, 0.4]])
    fresh = tiny(num_inputs=2, num_tasks=2)
    fresh.load_state_dict(state, strict=True)
    torch.testing.assert_close(fresh.ensemble.alpha.data, state['alpha'])
    torch.testing.assert_close(fresh.ensemble_weights(),
                               torch.softmax(state['alpha'], dim=1))
    single = tiny(num_inputs=1, num_tasks=2)
    assert single.alpha is None and 'ensemble.alpha' not in single.state_dict()
    torch.testing.assert_close(single.ensemble_weights(), torch.ones(2, 1))
