"""cen_mm.utils.benchmark.model_pair: the floor is the same network as one stream
(same conv weights, same FLOPs, same outputs when nothing is exchanged), the exchanged
fraction is what was asked for, --amp and --compile paths."""
import pytest
import torch
from mmengine.registry import DefaultScope

from cen_mm.core import ModalityNorm, iter_exchanging_norms
from cen_mm.utils.benchmark.model_pair import (ModelPair, forward_flops,
                                               set_exchange_fraction)


@pytest.fixture(autouse=True)
def mmseg_scope():
    """mmseg's registries for the segmentor, without leaking a global default scope."""
    import cen_mm  # noqa: F401
    with DefaultScope.overwrite_default_scope('mmseg'):
        yield


def tiny_backbone(**kwargs):
    return dict(type='CENResNet', depth=18, in_channels=(3, 1), base_channels=8,
                stem_channels=8, norm_cfg=dict(type='BN', requires_grad=True),
                norm_eval=True, exchange=True, **kwargs)


CPU = torch.device('cpu')


def test_floor_is_the_same_network_as_one_stream():
    pair = ModelPair('tiny', tiny_backbone(), True, None, batch=2, size=32,
                     device=CPU, seed=3)
    assert not any(isinstance(m, ModalityNorm) for m in pair.floor.modules())
    cen_state, floor_state = pair.cen.state_dict(), pair.floor.state_dict()
    for key, value in floor_state.items():  # same seed: same conv weights
        if key.endswith('conv1.weight') or key.endswith('conv2.weight'):
            assert torch.equal(value, cen_state[key[len('backbone.'):]]), key
    # with no channel exchanged (γ = 1), every CEN stream is the floor network on that
    # stream's input (depth tiled to 3 channels like CEN does)
    pair.set_mode('infer')
    x = torch.randn(2, 4, 32, 32)
    with torch.no_grad():
        cen_out = pair.cen(x)
        floor_out = pair.floor(torch.cat([x[:, :3], x[:, 3:].repeat(1, 3, 1, 1)]))
    for m in range(2):
        for a, b in zip(cen_out[m], floor_out):
            torch.testing.assert_close(a, b[2 * m:2 * m + 2])
    cen_flops = forward_flops(pair.infer_step('cen'))
    assert cen_flops > 0 and cen_flops == forward_flops(pair.infer_step('floor'))


def test_exchange_fraction_is_set_per_subpart():
    pair = ModelPair('tiny', tiny_backbone(), True, 3, batch=1, size=32, device=CPU,
                     seed=0)
    assert pair.num_streams == 3 and pair.cen.in_channels == (3, 1, 3)
    measured = set_exchange_fraction(pair.cen, 0.5, seed=0)
    expected_pairs = total = 0
    for _, norm in iter_exchanging_norms(pair.cen):
        mask = norm.exchange_mask()
        assert not (mask & ~norm.owner_mask).any()
        for m in range(3):
            owned = int(norm.owner_mask[m].sum())
            assert int(mask[m].sum()) == round(0.5 * owned)
            expected_pairs += round(0.5 * owned)
        total += mask.numel()
    assert measured == pytest.approx(expected_pairs / total)
    assert set_exchange_fraction(pair.cen, 0.0, seed=0) == 0.0


@pytest.mark.parametrize('backbone_only', [True, False])
def test_without_floor_the_cen_side_is_unchanged(backbone_only):
    if backbone_only:
        cfg = tiny_backbone()
    else:
        cfg = dict(type='CENEncoderDecoder', num_streams=2, backbone=tiny_backbone(),
                   decode_head=dict(type='FCNHead', in_channels=64, channels=8,
                                    num_convs=1, num_classes=3, in_index=3,
                                    dropout_ratio=0))
    both = ModelPair('tiny', cfg, backbone_only, None, 2, 32, CPU, 0)
    alone = ModelPair('tiny', cfg, backbone_only, None, 2, 32, CPU, 0,
                      with_floor=False)
    assert alone.floor is None and list(alone.models()) == ['cen']
    assert list(alone.optimizers) == ['cen']
    for (key, a), b in zip(both.cen.state_dict().items(),
                           alone.cen.state_dict().values()):
        assert torch.equal(a, b), key
    assert torch.equal(both.cen_inputs, alone.cen_inputs)
    if not backbone_only:  # the same labels too
        for a, b in zip(both.cen_samples, alone.cen_samples):
            assert torch.equal(a.gt_sem_seg.data, b.gt_sem_seg.data)
    for pair in (both, alone):
        pair.set_mode('train')
    assert torch.equal(alone.loss('cen'), both.loss('cen'))


def test_non_cen_backbone_is_rejected():
    with pytest.raises(ValueError, match='CENResNet'):
        ModelPair('x', dict(type='ResNet', depth=18), True, None, 1, 32, CPU, 0)


def test_backbone_only_loss_is_the_mean_of_the_outputs():
    pair = ModelPair('tiny', tiny_backbone(), True, None, batch=1, size=32,
                     device=CPU, seed=0)
    pair.set_mode('train')
    out = pair.floor(pair.floor_inputs)
    expected = sum(t.mean() for t in out)
    torch.testing.assert_close(pair.loss('floor'), expected)


def test_amp_runs_forwards_in_bfloat16():
    pair = ModelPair('tiny', tiny_backbone(), True, None, batch=1, size=32,
                     device=CPU, seed=0)
    dtypes = []
    for model in pair.models().values():
        model.register_forward_hook(
            lambda mod, inp, out: dtypes.append(out[0][0].dtype
                                                if mod is pair.cen else out[0].dtype))
    pair.set_mode('train')
    pair.train_step('cen')()
    pair.train_step('floor')()
    assert dtypes == [torch.float32, torch.float32]
    pair.amp = True
    for key in ('cen', 'floor'):
        pair.train_step(key)()
        pair.set_mode('infer')
        pair.infer_step(key)()
        pair.set_mode('train')
    assert dtypes[2:] == [torch.bfloat16] * 4
    assert all(p.dtype == torch.float32 for p in pair.cen.parameters())


@pytest.mark.e2e  # dynamo tracing: ~30 s on a busy 2-core machine
def test_compiled_pair_matches_eager():
    pair = ModelPair('tiny', tiny_backbone(), True, None, batch=1, size=32,
                     device=CPU, seed=0)
    set_exchange_fraction(pair.cen, 0.5, seed=0)
    pair.set_mode('infer')
    with torch.no_grad():
        eager = pair.cen(pair.cen_inputs)
    pair.compile('eager')  # dynamo only: the cheapest to compile
    assert all(type(f).__name__ == 'OptimizedModule' for f in pair.callables.values())
    with torch.no_grad():
        compiled = pair.callables['cen'](pair.cen_inputs)
    for a, b in zip(eager, compiled):
        for x, y in zip(a, b):
            torch.testing.assert_close(x, y, rtol=0, atol=0)


# ---- MultiStreamBackbone families: the floor is the stock backbone at batch M*N ------
TINY_INNER = {
    'mit': dict(type='mmseg.MixVisionTransformer', embed_dims=8, num_stages=2,
                num_layers=[1, 1], num_heads=[1, 2], patch_sizes=[7, 3],
                strides=[4, 2], sr_ratios=[2, 1], out_indices=(0, 1)),
    'swin': dict(type='mmseg.SwinTransformer', embed_dims=8, depths=[2, 2],
                 num_heads=[1, 2], window_size=4, strides=(4, 2), out_indices=(0, 1),
                 pretrain_img_size=32),
    'convnext': dict(type='mmpretrain.ConvNeXt',
                     arch=dict(depths=[1, 1], channels=[8, 16]), out_indices=[0, 1],
                     gap_before_final_norm=False),
}


def tiny_multi_stream(family, **kwargs):
    return dict(type='MultiStreamBackbone', in_channels=(3, 1), exchange=True,
                backbone=dict(TINY_INNER[family]), **kwargs)


@pytest.mark.parametrize('family', sorted(TINY_INNER))
def test_multi_stream_floor_is_the_stock_backbone(family):
    inner_type = TINY_INNER[family]['type'].split('.')[1]
    pair = ModelPair(family, tiny_multi_stream(family), True, None, batch=2, size=32,
                     device=CPU, seed=3)
    assert type(pair.cen).__name__ == 'MultiStreamBackbone'
    assert type(pair.floor).__name__ == inner_type
    assert len(list(iter_exchanging_norms(pair.cen))) > 0
    assert not list(iter_exchanging_norms(pair.floor))
    # same seed: every shared weight equals the stock backbone's
    floor_state = pair.floor.state_dict()
    shared = {k[len('backbone.'):]: v for k, v in pair.cen.state_dict().items()
              if '.norms.' not in k}
    assert shared.keys() <= floor_state.keys()
    assert all(torch.equal(v, floor_state[k]) for k, v in shared.items())
    # γ = 1 (nothing exchanged): stream m of CEN = the stock backbone on stream m's
    # input (depth tiled to 3 channels), rows m*N..(m+1)*N of the floor's batch
    pair.set_mode('infer')
    x = torch.randn(2, 4, 32, 32)
    with torch.no_grad():
        cen_out = pair.cen(x)
        floor_out = pair.floor(torch.cat([x[:, :3], x[:, 3:].repeat(1, 3, 1, 1)]))
    for m in range(2):
        for a, b in zip(cen_out[m], floor_out):
            torch.testing.assert_close(a, b[2 * m:2 * m + 2])
    cen_flops = forward_flops(pair.infer_step('cen'))
    assert cen_flops > 0 and cen_flops == forward_flops(pair.infer_step('floor'))
