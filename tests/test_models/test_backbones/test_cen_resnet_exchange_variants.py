"""CENResNet / MultiStreamBackbone with the papers' exchange ablations (issue #18):
``exchange_policy`` reaches every exchanging norm, ``exchange_layers`` keeps exchange
in the selected norms only (stage-wise exchange), ``conditional_norm`` makes the 3x3-conv
norms CBN (equal to private BN at init, inflates from a single-stream checkpoint)."""
import pytest
import torch
from mmengine.registry import MODELS

from cen_mm.core import ModalityNorm, iter_exchanging_norms
from cen_mm.core.conditional_norm import ConditionalModalityNorm
from cen_mm.core.exchange_policies import FixedRatioExchange, RandomExchange
from cen_mm.models.backbones import CENResNet
from cen_mm.models.backbones.checkpoint_inflation import single_stream_key_map
from cen_mm.models.backbones.modality_conv import ModalityConv2d
from tests.fixtures.threads import single_thread  # noqa: F401 (autouse)

STAGE_WISE = {18: r'layer\d\.0\.bn1', 50: r'layer\d\.0\.bn2'}


def tiny(depth=18, **kwargs):
    torch.manual_seed(0)
    model = CENResNet(depth=depth, base_channels=8, stem_channels=8, **kwargs)
    model.init_weights()
    return model


@pytest.mark.parametrize('depth', [18, 50])
def test_stage_wise_exchange_layers(depth):
    """One exchanging norm per stage (its first block's strided 3x3 conv), fixed 30%;
    every other norm is a private norm without exchange, nothing else changes."""
    policy = dict(type='fixed_ratio', ratio=0.3)
    full = tiny(depth, exchange_policy=policy)
    stage = tiny(depth, exchange_policy=policy, exchange_layers=STAGE_WISE[depth])
    names = [n for n, _ in iter_exchanging_norms(stage)]
    conv = 'bn1' if depth == 18 else 'bn2'
    assert names == [f'layer{i}.0.{conv}' for i in (1, 2, 3, 4)]
    layers = [m for _, m in iter_exchanging_norms(stage)]
    assert [m.num_features for m in layers] == [8, 16, 32, 64]
    assert all(isinstance(m.exchange_policy, FixedRatioExchange) for m in layers)
    # layer1.0: 8 channels, sub-parts of 4 -> round(1.2) = 1 channel per stream
    assert layers[0].exchange_mask().nonzero().tolist() == [[0, 0], [1, 4]]
    # layer4.0: 64 channels, sub-parts of 32 -> 10 channels per stream
    assert layers[3].exchange_mask().sum(dim=1).tolist() == [10, 10]
    assert len(list(iter_exchanging_norms(full))) == 16  # R18: 8 x 2, R50: 16 x 1
    # same modules and parameters otherwise (keys of the state dict)
    assert stage.state_dict().keys() == full.state_dict().keys()
    norms = [m for m in stage.modules() if isinstance(m, ModalityNorm)]
    assert len(norms) == len([m for m in full.modules() if isinstance(m, ModalityNorm)])
    x = torch.randn(2, 4, 32, 32)
    out = stage(x)
    assert [tuple(level.shape) for level in out[1]] == [
        tuple(level.shape) for level in full(x)[1]]


def test_policy_reaches_every_exchanging_norm_and_seed_reproduces():
    model = tiny(exchange_policy=dict(type='random', ratio=0.3)).train()
    layers = [m for _, m in iter_exchanging_norms(model)]
    assert len(layers) == 16
    assert all(isinstance(m.exchange_policy, RandomExchange) for m in layers)
    assert all(not m.exchange_policy for m in model.modules()
               if isinstance(m, ModalityNorm) and not m.exchange)
    x = torch.randn(2, 4, 32, 32)

    def run(seed):
        torch.manual_seed(seed)
        with torch.no_grad():
            return model(x)[1][-1].clone(), [m.exchange_mask() for m in layers]

    (a, masks_a), (b, masks_b), (c, masks_c) = run(0), run(0), run(1)
    assert torch.equal(a, b) and all(torch.equal(p, q) for p, q in zip(masks_a, masks_b))
    assert not torch.equal(a, c)
    # 30 % of every sub-part, e.g. 64 channels -> 10 per stream
    assert masks_a[-1].sum(dim=1).tolist() == [10, 10]


def test_errors():
    with pytest.raises(ValueError, match='need exchange=True'):
        tiny(exchange=False, exchange_policy=dict(type='fixed_ratio'))
    with pytest.raises(ValueError, match='matches none of the exchanging norms'):
        tiny(exchange_layers=r'layer\d\.0\.bn3')
    with pytest.raises(ValueError, match='needs exchange=False'):
        tiny(conditional_norm=dict())
    with pytest.raises(ValueError, match='must be a dict'):
        tiny(exchange=False, conditional_norm=True)
    with pytest.raises(ValueError, match="type 'shuffle' is unknown"):
        tiny(exchange_policy=dict(type='shuffle'))


@pytest.mark.parametrize('shared_convs', [True, False])
def test_cbn_backbone(shared_convs, tmp_path):
    cbn = tiny(exchange=False, conditional_norm=dict(), shared_convs=shared_convs)
    cbns = [n for n, m in cbn.named_modules() if isinstance(m, ConditionalModalityNorm)]
    assert cbns == [f'layer{i}.{b}.bn{k}' for i in (1, 2, 3, 4) for b in (0, 1)
                    for k in (1, 2)]  # every 3x3-conv norm of a BasicBlock
    assert not list(iter_exchanging_norms(cbn))
    convs = [m for m in cbn.modules() if isinstance(m, ModalityConv2d)]
    assert bool(convs) != shared_convs

    # at init: the private-BN network (same weights, condition MLP outputs 0)
    plain = tiny(exchange=False, shared_convs=shared_convs)
    state = {k: v for k, v in cbn.state_dict().items() if '.condition.' not in k}
    plain.load_state_dict(state)
    x = torch.randn(2, 4, 32, 32)
    cbn.eval()
    plain.eval()
    with torch.no_grad():
        for a, b in zip(cbn(x)[1], plain(x)[1]):
            torch.testing.assert_close(a, b)
        # a trained condition: depth's features depend on the RGB input
        for name in cbns:
            torch.nn.init.normal_(cbn.get_submodule(name).condition[2].weight, std=0.1)
        changed = x.clone()
        changed[:, :3] += 1.0
        assert not torch.allclose(cbn(x)[1][-1], cbn(changed)[1][-1])

    # a single-stream checkpoint (torchvision key layout) inflates; the MLPs keep
    # their initialisation
    if shared_convs:
        single = tiny(in_channels=(3, ), exchange=False)
        with torch.no_grad():
            for p in single.parameters():
                p.uniform_(-1, 1)
        keys = single_stream_key_map(single)
        path = tmp_path / 'single.pth'
        torch.save({keys[k]: v for k, v in single.state_dict().items()}, path)
        model = tiny(exchange=False, conditional_norm=dict(),
                     init_cfg=dict(type='Pretrained', checkpoint=str(path)))
        bn = model.layer2.get_submodule('1.bn2')
        assert isinstance(bn, ConditionalModalityNorm)
        torch.testing.assert_close(bn.norms[1].weight,
                                   single.layer2.get_submodule('1.bn2').norms[0].weight)
        assert torch.all(bn.condition[2].weight == 0)


def test_multi_stream_backbone_forwards_policy():
    backbone = dict(type='mmseg.ResNetV1c', depth=18, stem_channels=8, base_channels=8,
                    num_stages=2, strides=(1, 2), dilations=(1, 1), out_indices=(0, 1))
    model = MODELS.build(dict(type='MultiStreamBackbone', backbone=backbone,
                              exchange_policy=dict(type='fixed_ratio', ratio=0.5)))
    layers = [m for _, m in iter_exchanging_norms(model)]
    assert len(layers) == 8
    assert all(isinstance(m.exchange_policy, FixedRatioExchange) for m in layers)
    assert layers[0].exchange_mask().sum(dim=1).tolist() == [2, 2]  # 8 ch, 4 per part
    with pytest.raises(ValueError, match='needs exchange=True'):
        MODELS.build(dict(type='MultiStreamBackbone', backbone=backbone, exchange=False,
                          exchange_policy=dict(type='fixed_ratio')))
    mit = dict(type='mmseg.MixVisionTransformer', embed_dims=8, num_stages=1,
               num_layers=[1], num_heads=[1], patch_sizes=[7], strides=[4],
               sr_ratios=[2], out_indices=(0, ))
    with pytest.raises(ValueError, match='LayerNorm: exchange_policy'):
        MODELS.build(dict(type='MultiStreamBackbone', backbone=mit,
                          exchange_policy=dict(type='fixed_ratio')))
