"""ExchangeNeck: decoder-side exchange values against a manual computation."""
import pytest
import torch
import torch.nn.functional as F
from mmengine.registry import MODELS

import cen_mm  # noqa: F401
from cen_mm.core import MultiStreamFeatures

IN_CHANNELS = [4, 6]
OUT_CHANNELS = 6
THETA = 0.1


def _neck(exchange_mode='subpart', num_streams=2):
    torch.manual_seed(0)
    neck = MODELS.build(dict(type='ExchangeNeck', in_channels=IN_CHANNELS,
                             out_channels=OUT_CHANNELS, num_streams=num_streams,
                             norm_cfg=dict(type='BN'), threshold=THETA,
                             exchange_mode=exchange_mode))
    neck.init_weights()
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for level in neck.levels:
            for m, bn in enumerate(level.norm.norms):
                bn.weight.copy_(torch.rand(OUT_CHANNELS, generator=g) + 0.5)
                bn.bias.copy_(torch.randn(OUT_CHANNELS, generator=g))
                bn.running_mean.copy_(torch.randn(OUT_CHANNELS, generator=g))
                bn.running_var.copy_(torch.rand(OUT_CHANNELS, generator=g) + 0.5)
            # small |γ| at: stream 0 ch 1 (own sub-part), stream 0 ch 4 (stream 1's
            # sub-part), stream 1 ch 4 (own), stream 1 ch 0 (stream 0's sub-part)
            level.norm.norms[0].weight[[1, 4]] = torch.tensor([0.05, -0.02])
            level.norm.norms[1].weight[[4, 0]] = torch.tensor([-0.03, 0.01])
    return neck


def _feats(num_streams=2, n=2):
    g = torch.Generator().manual_seed(2)
    per_stream = [[torch.randn(n, c, 8 >> i, 8 >> i, generator=g)
                   for i, c in enumerate(IN_CHANNELS)] for _ in range(num_streams)]
    return MultiStreamFeatures(
        [torch.cat([s[i] for s in per_stream]) for i in range(len(IN_CHANNELS))],
        num_streams)


def _manual(neck, feats, exchanged, training=False):
    """Per stream: conv -> BN_m -> (exchange listed (stream, channel) pairs with the
    other stream's post-BN value) -> ReLU."""
    outs = [[], []]
    for lvl, level in enumerate(neck.levels):
        post = []
        for m in range(2):
            bn = level.norm.norms[m]
            y = F.conv2d(feats[m][lvl], level.conv.weight, padding=1)
            post.append(F.batch_norm(y, bn.running_mean.clone(), bn.running_var.clone(),
                                     bn.weight, bn.bias, training=training,
                                     eps=bn.eps))
        for m in range(2):
            y = post[m].clone()
            for stream, c in exchanged:
                if stream == m:
                    y[:, c] = post[1 - m][:, c]
            outs[m].append(y.relu())
    return outs


@pytest.mark.parametrize('mode,exchanged', [
    ('subpart', [(0, 1), (1, 4)]),  # only inside each stream's own half
    ('all', [(0, 1), (0, 4), (1, 4), (1, 0)]),
])
def test_exchange_values_eval(mode, exchanged):
    neck = _neck(mode).eval()
    feats = _feats()
    with torch.no_grad():
        outs = neck(feats)
        ref = _manual(neck, feats, exchanged)
    assert isinstance(outs, MultiStreamFeatures) and len(outs) == 2
    for m in range(2):
        assert isinstance(outs[m], tuple) and len(outs[m]) == 2
        for lvl in range(2):
            assert outs[m][lvl].shape == (2, OUT_CHANNELS, 8 >> lvl, 8 >> lvl)
            torch.testing.assert_close(outs[m][lvl], ref[m][lvl])


def test_exchange_values_train_batch_statistics():
    neck = _neck('subpart').train()
    feats = _feats()
    with torch.no_grad():
        outs = neck(feats)
    ref = _manual(neck, feats, [(0, 1), (1, 4)], training=True)
    for m in range(2):
        for lvl in range(2):
            torch.testing.assert_close(outs[m][lvl], ref[m][lvl])


def test_out_channels_per_level_and_errors():
    neck = MODELS.build(dict(type='ExchangeNeck', in_channels=[4, 6],
                             out_channels=[3, 5], num_streams=2))
    outs = neck(_feats())
    assert [o.shape[1] for o in outs[1]] == [3, 5]
    with pytest.raises(ValueError, match='out_channels'):
        MODELS.build(dict(type='ExchangeNeck', in_channels=[4, 6],
                          out_channels=[3], num_streams=2))
    with pytest.raises(TypeError, match='expected 2 streams, got 3'):
        neck(_feats(num_streams=3))
    with pytest.raises(TypeError, match='expected MultiStreamFeatures'):
        neck(list(_feats()))  # per-stream tuples without the stream layout
    with pytest.raises(ValueError, match='levels'):
        neck(MultiStreamFeatures(_feats().stacked[:1], 2))
