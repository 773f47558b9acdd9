"""CENImageClassifier: stacked streams through the shared neck/head, the ensemble
module's outputs, loss names, output selection and old checkpoints."""
import pytest
import torch
import torch.nn.functional as F
from mmengine.registry import DefaultScope

import cen_mm.cls  # noqa: F401


def _model(**kwargs):
    import mmpretrain.models  # noqa: F401
    from mmpretrain.registry import MODELS
    torch.manual_seed(0)
    cfg = dict(type='CENImageClassifier',
               backbone=dict(type='CENResNet', depth=18, in_channels=(3, 1),
                             stem_channels=8, base_channels=8, out_indices=(3, )),
               neck=dict(type='GlobalAveragePooling'),
               head=dict(type='LinearClsHead', num_classes=3, in_channels=64),
               **kwargs)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        return MODELS.build(cfg).eval()


def _samples(labels):
    from mmpretrain.structures import DataSample
    return [DataSample().set_gt_label(int(y)) for y in labels]


def test_outputs_losses_and_selection():
    model = _model()
    with torch.no_grad():
        model.alpha.copy_(torch.tensor([0.3, -0.2]))
    x = torch.randn(2, 4, 32, 32)
    with torch.no_grad():
        s0, s1, ens = model(x)
        feats = model.extract_feat(x, stage='backbone')
        # shared neck/head on the stacked streams = stream by stream
        ref = [model.head(model.neck(feats.stream(m))) for m in range(2)]
        losses = model.loss(x, _samples([0, 2]))
    torch.testing.assert_close(s0, ref[0])
    torch.testing.assert_close(s1, ref[1])
    w = torch.softmax(model.alpha.detach(), 0)
    torch.testing.assert_close(ens, w[0] * s0 + w[1] * s1)
    assert set(losses) == {'s0.loss', 's1.loss', 'ens.loss'}
    for name, logits in (('s0', s0), ('s1', s1), ('ens', ens)):
        torch.testing.assert_close(losses[f'{name}.loss'],
                                   F.cross_entropy(logits, torch.tensor([0, 2])))
    assert model.extract_feat(x, stage='neck').stacked[0].shape == (4, 64)
    model.output = 1
    preds = model.predict(x, _samples([0, 0]))
    assert [p.pred_label.item() for p in preds] == s1.argmax(1).tolist()
    model.output = 2
    with pytest.raises(ValueError, match="output must be 'ensemble'"):
        model.predict(x)
    with pytest.raises(ValueError, match="output must be 'ensemble'"):
        _model(output='ens')


def test_old_checkpoint_and_concat_fusion():
    model = _model()
    state = {('alpha' if k == 'ensemble.alpha' else k): v
             for k, v in model.state_dict().items()}
    state['alpha'] = torch.tensor([0.7, 0.1])
    fresh = _model()
    fresh.load_state_dict(state, strict=True)
    torch.testing.assert_close(fresh.ensemble.alpha.data, torch.tensor([0.7, 0.1]))
    fusion = _model(ensemble=dict(type='ConcatFusionEnsemble'))
    x = torch.randn(2, 4, 32, 32)
    with torch.no_grad():
        s0, s1, ens = fusion(x)  # starts as the mean of the streams
    torch.testing.assert_close(ens, (s0 + s1) / 2)
