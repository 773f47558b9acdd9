"""CENEncoderDecoder: per-stream + ensemble losses, alpha/detach, inference modes."""
import copy

import pytest
import torch
import torch.nn.functional as F
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

import cen_mm  # noqa: F401
from cen_mm.core import MultiStreamFeatures

NUM_CLASSES = 5
SIZE = 48


def _cfg(in_channels=(3, 1), aux=True, **kwargs):
    cfg = dict(
        type='CENEncoderDecoder',
        backbone=dict(type='CENResNet', depth=18, in_channels=in_channels,
                      base_channels=8, stem_channels=8, norm_eval=True,
                      exchange=True),
        decode_head=dict(type='RefineNetHead', in_channels=(8, 16, 32, 64),
                         stage_channels=(16, 8, 8, 8), num_classes=NUM_CLASSES,
                         loss_decode=dict(type='CrossEntropyLoss',
                                          avg_non_ignore=True)),
        train_cfg=dict(),
        test_cfg=dict(mode='whole'))
    if aux:
        cfg['auxiliary_head'] = dict(
            type='FCNHead', in_channels=32, in_index=2, channels=8, num_convs=1,
            concat_input=False, num_classes=NUM_CLASSES,
            norm_cfg=dict(type='BN'),
            loss_decode=dict(type='CrossEntropyLoss', loss_weight=0.4,
                             avg_non_ignore=True))
    cfg.update(kwargs)
    return cfg


def _model(seed=0, **kwargs):
    torch.manual_seed(seed)
    model = MODELS.build(_cfg(**kwargs))
    with torch.no_grad():  # non-trivial ensemble weights
        model.alpha.copy_(torch.linspace(0.5, -0.5, model.num_streams))
    return model


def _batch(n=2, channels=4, size=SIZE, seed=1):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, channels, size, size, generator=g)
    gt = torch.randint(0, NUM_CLASSES, (n, 1, size, size), generator=g)
    gt[:, :, :4] = 255  # some ignored pixels
    samples = []
    for i in range(n):
        s = SegDataSample(metainfo=dict(img_shape=(size, size),
                                        ori_shape=(size, size),
                                        pad_shape=(size, size),
                                        padding_size=[0, 0, 0, 0]))
        s.gt_sem_seg = PixelData(data=gt[i])
        samples.append(s)
    return x, gt, samples


def _ce(logits, gt):
    up = F.interpolate(logits, size=gt.shape[2:], mode='bilinear', align_corners=False)
    return F.cross_entropy(up, gt[:, 0], ignore_index=255)


def test_num_streams_and_alpha():
    model = MODELS.build(_cfg())
    assert model.num_streams == 2
    torch.testing.assert_close(model.alpha.data, torch.ones(2))  # official init
    assert MODELS.build(_cfg(in_channels=(3, 1, 1))).alpha.shape == (3, )


def test_tensor_mode_shapes_and_ensemble():
    model = _model().eval()
    x, _, _ = _batch()
    with torch.no_grad():
        outs = model(x, mode='tensor')
    assert isinstance(outs, list) and len(outs) == 3
    for out in outs:
        assert out.shape == (2, NUM_CLASSES, SIZE // 4, SIZE // 4)
    w = torch.softmax(model.alpha.detach(), 0)
    torch.testing.assert_close(outs[2], w[0] * outs[0] + w[1] * outs[1])
    assert not torch.allclose(outs[0], outs[1])


def test_three_streams_ensemble():
    model = _model(in_channels=(3, 1, 1), aux=False).eval()
    x, _, _ = _batch(channels=5)
    with torch.no_grad():
        outs = model(x, mode='tensor')
    assert len(outs) == 4
    w = torch.softmax(model.alpha.detach(), 0)
    torch.testing.assert_close(outs[3], sum(w[m] * outs[m] for m in range(3)))


def test_stacked_head_equals_per_stream_head():
    model = _model().eval()
    separate = copy.deepcopy(model)
    separate.stack_streams = False
    x, _, _ = _batch()
    with torch.no_grad():
        a, b = model(x, mode='tensor'), separate(x, mode='tensor')
    for u, v in zip(a, b):
        torch.testing.assert_close(u, v, rtol=1e-5, atol=1e-6)


def test_stream_features_are_independent():
    """Stream m's logits depend on stream m's input (no exchange at γ=1)."""
    model = _model(aux=False).eval()
    x, _, _ = _batch()
    x2 = x.clone()
    x2[:, 3:] += 1.0  # change the depth stream only
    with torch.no_grad():
        a, b = model(x, mode='tensor'), model(x2, mode='tensor')
    torch.testing.assert_close(a[0], b[0])
    assert not torch.allclose(a[1], b[1])


def test_loss_keys_and_values():
    model = _model().eval()  # eval: no dropout, BN with running stats
    x, gt, samples = _batch()
    with torch.no_grad():
        losses = model(x, samples, mode='loss')
        outs = model(x, mode='tensor')
        feats = model.extract_feat(x)
        # the aux head's BNs are private per stream: it runs on the stacked streams
        aux = model.auxiliary_head(feats.stacked).chunk(2)
    expected_keys = {f'{p}.decode.{k}' for p in ('s0', 's1', 'ens')
                     for k in ('loss_ce', 'acc_seg')}
    expected_keys |= {f's{m}.aux.{k}' for m in (0, 1) for k in ('loss_ce', 'acc_seg')}
    assert set(losses) == expected_keys
    for name, logits in zip(('s0', 's1', 'ens'), outs):
        torch.testing.assert_close(losses[f'{name}.decode.loss_ce'], _ce(logits, gt))
    for m in (0, 1):
        torch.testing.assert_close(losses[f's{m}.aux.loss_ce'], 0.4 * _ce(aux[m], gt))


def test_multiple_aux_heads_keys():
    cfg_aux = _cfg()['auxiliary_head']
    model = _model(auxiliary_head=[cfg_aux, dict(cfg_aux, in_index=3,
                                                 in_channels=64)])
    x, _, samples = _batch(n=1)
    keys = set(model(x, samples, mode='loss'))
    assert {'s0.aux_0.loss_ce', 's1.aux_1.loss_ce'} <= keys


def test_alpha_gets_gradient_only_from_ensemble_loss():
    model = _model(aux=False).train()
    x, _, samples = _batch()

    losses = model(x, samples, mode='loss')
    (losses['s0.decode.loss_ce'] + losses['s1.decode.loss_ce']).backward()
    assert model.alpha.grad is None or not model.alpha.grad.any()
    assert model.backbone.conv1.weight.grad.abs().sum() > 0

    model.zero_grad(set_to_none=True)
    losses = model(x, samples, mode='loss')
    losses['ens.decode.loss_ce'].backward()
    assert model.alpha.grad is not None and model.alpha.grad.abs().sum() > 0
    # detach: the ensemble loss reaches neither the backbone nor the head
    for name, p in model.named_parameters():
        if name != 'ensemble.alpha':
            assert p.grad is None or not p.grad.any(), name


def test_predict_ensemble_and_single_stream():
    model = _model().eval()
    x, _, samples = _batch()
    with torch.no_grad():
        outs = model(x, mode='tensor')
        ens = model.predict(x, copy.deepcopy(samples))
        model.test_cfg['output'] = 1
        s1 = model.predict(x, copy.deepcopy(samples))
        model.test_cfg['output'] = 0
        s0 = model.predict(x)  # without data samples
    for i in range(2):
        for pred, logits in ((ens, outs[2]), (s1, outs[1]), (s0, outs[0])):
            up = F.interpolate(logits[i:i + 1], size=(SIZE, SIZE), mode='bilinear',
                               align_corners=False)[0]
            torch.testing.assert_close(pred[i].seg_logits.data, up)
            assert torch.equal(pred[i].pred_sem_seg.data[0], up.argmax(0))


@pytest.mark.parametrize('output', [2, -1, 'ens', '1', True])
def test_bad_output_is_rejected(output):
    model = _model(aux=False).eval()
    model.test_cfg['output'] = output
    x, _, samples = _batch(n=1)
    with pytest.raises(ValueError, match='test_cfg.output'):
        model.predict(x, samples)
    with pytest.raises(ValueError, match='test_cfg.output'):
        MODELS.build(_cfg(test_cfg=dict(mode='whole', output=output)))


def test_slide_inference():
    crop, stride = 32, 16
    model = _model(aux=False, test_cfg=dict(mode='slide', crop_size=(crop, crop),
                                            stride=(stride, stride))).eval()
    x, _, samples = _batch(n=1)
    with torch.no_grad():
        pred = model.predict(x, samples)[0].seg_logits.data
        # manual sliding window over the ensemble logits
        acc = torch.zeros(NUM_CLASSES, SIZE, SIZE)
        count = torch.zeros(1, SIZE, SIZE)
        for y1 in (0, 16):
            for x1 in (0, 16):
                ens = model(x[:, :, y1:y1 + crop, x1:x1 + crop], mode='tensor')[-1]
                acc[:, y1:y1 + crop, x1:x1 + crop] += F.interpolate(
                    ens, size=(crop, crop), mode='bilinear', align_corners=False)[0]
                count[:, y1:y1 + crop, x1:x1 + crop] += 1
    torch.testing.assert_close(pred, acc / count)


def test_wrong_backbone_output_is_reported():
    model = _model(aux=False)
    model.num_streams = 3
    x, _, _ = _batch(n=1)
    with pytest.raises(TypeError, match='expected 3 streams, got 2'):
        model(x, mode='tensor')


def test_with_exchange_neck():
    """The neck sits between backbone and shared head; its exchange couples streams."""
    model = _model(aux=False,
                   neck=dict(type='ExchangeNeck', in_channels=[8, 16, 32, 64],
                             out_channels=8, num_streams=2, threshold=0.1),
                   decode_head=dict(_cfg()['decode_head'],
                                    in_channels=(8, 8, 8, 8))).eval()
    x, _, _ = _batch(n=1)
    x_rgb_changed = x.clone()
    x_rgb_changed[:, :3] += 1.0
    with torch.no_grad():
        outs = model(x, mode='tensor')
        feats = model.neck(model.backbone(x))
        for m in range(2):
            torch.testing.assert_close(outs[m], model.decode_head(feats.stream(m)))
        # no exchange yet: the depth stream ignores the RGB input
        before = model(x_rgb_changed, mode='tensor')
        torch.testing.assert_close(before[1], outs[1])
        # depth stream gives up channel 5 (in its own sub-part [4, 8)) of level 3
        model.neck.levels[3].norm.norms[1].weight[5] = 0.0
        a = model(x, mode='tensor')
        b = model(x_rgb_changed, mode='tensor')
    assert not torch.allclose(a[1], b[1])


@pytest.mark.parametrize('neck', [False, True])
def test_shared_heads_get_the_stacked_levels_without_a_copy(neck):
    """The decode and auxiliary heads receive the backbone's (or neck's) own
    (M*N, C, H, W) levels (``MultiStreamFeatures.stacked``), not copies; losses and
    gradients equal those of concatenated copies of the per-stream views."""
    kwargs = {}
    if neck:
        kwargs = dict(neck=dict(type='ExchangeNeck', in_channels=[8, 16, 32, 64],
                                out_channels=[8, 16, 32, 64], num_streams=2))
    model = _model(**kwargs).train()
    separate = copy.deepcopy(model)
    # the same model fed re-concatenated copies of the per-stream views
    (separate.neck if neck else separate.backbone).register_forward_hook(
        lambda mod, args, out: MultiStreamFeatures(
            [torch.cat(t.chunk(2)) for t in out.stacked], 2))
    seen = {}
    for name in ('decode_head', 'auxiliary_head'):  # heads run through .forward
        head = getattr(model, name)

        def spy(inputs, name=name, forward=head.forward):
            seen.setdefault(name, inputs)
            return forward(inputs)

        head.forward = spy
    produced = []
    source = model.neck if neck else model.backbone
    source.register_forward_hook(lambda mod, args, out: produced.append(out))
    x, _, samples = _batch()
    torch.manual_seed(7)  # same dropout masks in both runs
    losses = model.loss(x, samples)
    stacked = produced[0].stacked
    for name in ('decode_head', 'auxiliary_head'):
        assert all(a is b for a, b in zip(seen[name], stacked)), name
    torch.manual_seed(7)
    ref = separate.loss(x, samples)
    for key in losses:
        torch.testing.assert_close(losses[key], ref[key], rtol=1e-5, atol=1e-6)
    total = sum(v for k, v in losses.items() if 'loss' in k)
    ref_total = sum(v for k, v in ref.items() if 'loss' in k)
    total.backward()
    ref_total.backward()
    for (name, p), q in zip(model.named_parameters(), separate.parameters()):
        if p.grad is not None:
            torch.testing.assert_close(p.grad, q.grad, rtol=1e-4, atol=1e-6,
                                       msg=lambda s: f'{name}: {s}')


def test_checkpoint_with_top_level_alpha_loads_strictly(tmp_path):
    """Checkpoints written before the ensemble module (``alpha`` at the top level, also
    what cen2mmseg wrote) load strictly through mmengine's ``load_checkpoint``."""
    from mmengine.runner import load_checkpoint
    model = _model(aux=False)
    state = {('alpha' if k == 'ensemble.alpha' else k): v
             for k, v in model.state_dict().items()}
    assert 'alpha' in state and 'ensemble.alpha' not in state
    path = tmp_path / 'old.pth'
    torch.save(dict(state_dict=state, meta=dict()), path)
    fresh = _model(seed=1, aux=False)
    load_checkpoint(fresh, str(path), map_location='cpu', strict=True)
    torch.testing.assert_close(fresh.ensemble.alpha.data, torch.tensor([0.5, -0.5]))
    assert fresh.alpha is fresh.ensemble.alpha


def test_concat_fusion_ensemble():
    """``ensemble=dict(type='ConcatFusionEnsemble')``: 1x1 conv over the concatenated
    stream logits, same outputs/losses API, trained by the ensemble loss only."""
    model = _model_with(ensemble=dict(type='ConcatFusionEnsemble'))
    assert model.alpha is None
    fuse = model.ensemble.fuse
    assert fuse.weight.shape == (NUM_CLASSES, 2 * NUM_CLASSES, 1, 1)
    with torch.no_grad():
        fuse.weight.normal_(0, 0.3)
        fuse.bias.normal_()
    model.eval()
    x, gt, samples = _batch()
    with torch.no_grad():
        outs = model(x, mode='tensor')
        losses = model(x, samples, mode='loss')
        pred = model.predict(x, copy.deepcopy(samples))
    expected = fuse(torch.cat(outs[:2], dim=1))
    torch.testing.assert_close(outs[2], expected)
    torch.testing.assert_close(losses['ens.decode.loss_ce'], _ce(outs[2], gt))
    up = F.interpolate(outs[2], size=(SIZE, SIZE), mode='bilinear', align_corners=False)
    torch.testing.assert_close(pred[0].seg_logits.data, up[0])
    model.train()
    losses = model(x, samples, mode='loss')
    losses['ens.decode.loss_ce'].backward()
    for name, p in model.named_parameters():
        if name.startswith('ensemble.'):
            assert p.grad is not None and p.grad.abs().sum() > 0, name
        else:
            assert p.grad is None or not p.grad.any(), name


def _model_with(**kwargs):
    torch.manual_seed(0)
    return MODELS.build(_cfg(aux=False, **kwargs))
