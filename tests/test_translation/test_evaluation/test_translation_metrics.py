"""FID / KID / MAE / MSE of translation outputs against direct numpy computations.

The Inception network is replaced by a small TorchScript stand-in with the call signature
of the TF-Inception TorchScript ('StyleGAN' style), loaded through the same local-file
path as real weights. References compute features straight from the rendered images /
generator outputs (not from mmagic's data samples) and FID via eigenvalues instead of
scipy's sqrtm, KID with explicit loops over sample pairs.
"""
import copy
import itertools

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.dataset import pseudo_collate
from torch.utils.data import DataLoader

import cen_mm.translation  # noqa: F401
from cen_mm.translation.datasets import SynthMultiDomainDataset, render_synth_domains
from cen_mm.translation.evaluation import (TranslationFID, TranslationKID,
                                           TranslationMAE, TranslationMSE,
                                           kid_over_subsets, load_local_inception)
from cen_mm.translation.evaluation import fid as fid_module
from mmagic.registry import MODELS
from tests.fixtures.threads import single_thread  # noqa: F401 (autouse)

SIZE, NUM, SEED = 16, 10, 50
TASKS = [dict(inputs=['edge_occlusion', 'depth_zbuffer'], target='rgb')]

@pytest.fixture(autouse=True, scope='module')
def mmagic_default_scope():
    """Pipelines/metrics resolve their types in mmagic's registries (configs set
    default_scope='mmagic')."""
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('mmagic'):
        yield



class StandInInception(nn.Module):
    """uint8 RGB (N, 3, H, W) -> 6 features (channel means and standard deviations)."""

    def forward(self, img: torch.Tensor, return_features: bool = False) -> torch.Tensor:
        x = img.float() / 255.0
        return torch.cat([x.mean(dim=(2, 3)), x.std(dim=(2, 3))], 1)


@pytest.fixture(scope='module')
def stand_in(tmp_path_factory):
    path = str(tmp_path_factory.mktemp('inception') / 'stand_in.pt')
    torch.jit.save(torch.jit.script(StandInInception()), path)
    return path


@pytest.fixture(scope='module')
def setup():
    torch.manual_seed(0)
    model = MODELS.build(dict(
        type='CENPix2Pix', tasks=TASKS, test_in_train_mode=False, discriminator=None,
        generator=dict(type='CENUnetGenerator', num_down=4, base_channels=4,
                       use_dropout=False)))
    model.init_weights()
    model.eval()
    pipeline = [dict(type='LoadSynthDomains', size=SIZE), dict(type='PackDomains')]
    dataset = SynthMultiDomainDataset(num_samples=NUM, domains=['edge_occlusion',
                                                               'depth_zbuffer', 'rgb'],
                                      seed=SEED, pipeline=pipeline)
    loader = DataLoader(dataset, batch_size=4, collate_fn=pseudo_collate)
    outputs = []
    for data in loader:
        outputs += [s.to_dict() for s in model.test_step(copy.deepcopy(data))]
    return model, loader, outputs


def run_metric(metric, model, loader, outputs):
    metric.prepare(model, loader)
    for start in range(0, len(outputs), 4):
        metric.process(None, outputs[start:start + 4])
    return metric.evaluate()


def reference_features(model, key):
    """Stand-in features of the real rgb images / of the generated ones, straight from
    the renderer and the generator (uint8 RGB)."""
    net = StandInInception()
    if key == 'real':
        imgs = np.stack([render_synth_domains(SEED + i, SIZE)['rgb'] for i in range(NUM)])
        imgs = torch.from_numpy(imgs).permute(0, 3, 1, 2)
    else:
        with torch.no_grad():
            out = model.generators(model.stack_inputs(generator_inputs(), [0]))
        pred = out['ensemble'][0] if key == 'ens' else out['streams'][0, key]
        # the network works in BGR (mmagic's order); Inception gets RGB
        imgs = (pred.flip(1) * 127.5 + 127.5).clamp(0, 255).to(torch.uint8)
    return net(imgs).double().numpy()


def generator_inputs():
    """Normalised BGR (N, 3, H, W) inputs of the model, from the renderer."""
    inputs = {}
    for d in ('edge_occlusion', 'depth_zbuffer'):
        arr = np.stack([render_synth_domains(SEED + i, SIZE)[d] for i in range(NUM)])
        bgr = torch.from_numpy(arr[..., ::-1].copy()).permute(0, 3, 1, 2).float()
        inputs[f'img_{d}'] = (bgr - 127.5) / 127.5
    return inputs


def numpy_fid(a, b):
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    eig = np.linalg.eigvals(cov_a @ cov_b)
    tr_sqrt = np.sqrt(np.clip(eig.real, 0, None)).sum()
    return float(((mu_a - mu_b)**2).sum() + np.trace(cov_a) + np.trace(cov_b) -
                 2 * tr_sqrt)


def loop_kid(x, y):
    """Unbiased MMD² with k(a, b) = (a·b/d + 1)³, pair by pair."""
    d = x.shape[1]
    k = lambda a, b: (a @ b / d + 1)**3  # noqa: E731
    m, n = len(x), len(y)
    xx = sum(k(x[i], x[j]) for i, j in itertools.permutations(range(m), 2))
    yy = sum(k(y[i], y[j]) for i, j in itertools.permutations(range(n), 2))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(n))
    return xx / (m * (m - 1)) + yy / (n * (n - 1)) - 2 * xy / (m * n)


@pytest.mark.e2e
@pytest.mark.parametrize('fake_key,ref_key', [('fake_rgb', 'ens'),
                                              ('fake_rgb_from_depth_zbuffer', 1)])
def test_fid_and_kid_match_numpy(stand_in, setup, fake_key, ref_key):
    model, loader, outputs = setup
    kw = dict(fake_key=fake_key, real_key='img_rgb', inception_style='StyleGAN',
              inception_path=stand_in, prefix='x')
    fid = run_metric(TranslationFID(**kw), model, loader, outputs)
    kid = run_metric(TranslationKID(**kw, num_subsets=4, subset_size=1000), model,
                     loader, outputs)
    real = reference_features(model, 'real')
    fake = reference_features(model, ref_key)
    assert fid['x/fid'] == pytest.approx(numpy_fid(fake, real), rel=1e-4, abs=1e-6)
    # subset_size >= n: every subset is a permutation of all samples, MMD² is symmetric
    assert kid['x/kid'] == pytest.approx(100 * loop_kid(fake, real), rel=1e-6)
    assert kid['x/kid_std'] == pytest.approx(0, abs=1e-9)
    assert abs(kid['x/kid']) > 1e-3  # fake and real differ: the comparison is not 0 == 0


def test_real_features_are_extracted_once_per_dataloader(stand_in, setup):
    model, loader, outputs = setup
    fid_module._REAL_FEATURES.pop(loader, None)
    metrics = [TranslationFID(fake_key=k, real_key='img_rgb', inception_style='StyleGAN',
                              inception_path=stand_in)
               for k in ('fake_rgb', 'fake_rgb_from_edge_occlusion')]
    calls = []
    original = TranslationFID.forward_inception

    def counting(self, image):
        calls.append(image.shape[0])
        return original(self, image)

    TranslationFID.forward_inception = counting
    try:
        for metric in metrics:
            metric.prepare(model, loader)
    finally:
        TranslationFID.forward_inception = original
    assert sum(calls) == NUM  # one pass over the real images for both metrics
    assert metrics[0].inception is metrics[1].inception
    np.testing.assert_allclose(metrics[0].real_mean, metrics[1].real_mean)


def test_kid_subsets():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(8, 3)), rng.normal(1.0, size=(8, 3))
    # subsets as large as the sets: permutations of them, the MMD² of the full sets
    full, std = kid_over_subsets(x, y, num_subsets=3, subset_size=100)
    assert full == pytest.approx(loop_kid(x, y)) and std == pytest.approx(0, abs=1e-12)
    # smaller subsets: noisy estimates around it; unequal sets use min(size) samples
    mean, std = kid_over_subsets(x, y, num_subsets=30, subset_size=4, seed=1)
    assert std > 0 and abs(mean - full) < 4 * std
    _, std = kid_over_subsets(x, np.concatenate([y, y + 0.1]), num_subsets=5)
    assert std > 0  # 8 of the 16 real samples per subset


def test_mae_and_rmse_match_numpy(setup):
    model, loader, outputs = setup
    # the 'rgb' target stands in for any non-RGB output here
    key, gt = 'fake_rgb_from_edge_occlusion', 'img_rgb'
    mae = run_metric(TranslationMAE(fake_key=key, real_key=gt, prefix='p'), model,
                     loader, outputs)
    mse = run_metric(TranslationMSE(fake_key=key, real_key=gt, prefix='p'), model,
                     loader, outputs)
    rmse = run_metric(TranslationMSE(fake_key=key, real_key=gt, root_of_mean=True,
                                     prefix='p'), model, loader, outputs)
    real = np.stack([render_synth_domains(SEED + i, SIZE)['rgb'] for i in range(NUM)])
    real = real[..., ::-1].transpose(0, 3, 1, 2).astype(np.float64) / 127.5 - 1  # BGR
    with torch.no_grad():
        out = model.generators(model.stack_inputs(generator_inputs(), [0]))
    pred = out['streams'][0, 0]
    err = pred.double().numpy() - real
    per_image_mse = (err**2).reshape(NUM, -1).mean(1)
    assert mae['p/MAE'] == pytest.approx(100 * np.abs(err).mean(), rel=1e-5)
    assert mse['p/MSE'] == pytest.approx(100 * per_image_mse.mean(), rel=1e-5)
    assert rmse['p/RMSE'] == pytest.approx(100 * np.sqrt(per_image_mse.mean()), rel=1e-5)


def test_inception_weights_are_never_guessed(tmp_path, monkeypatch):
    monkeypatch.setenv('HOME', str(tmp_path))
    monkeypatch.setattr(torch.hub, 'get_dir', lambda: str(tmp_path / 'hub'))
    for style in ('StyleGAN', 'PyTorch'):
        with pytest.raises(FileNotFoundError, match='no Inception weights.*'
                           'inception_path'):
            TranslationFID(fake_key='fake_rgb', real_key='img_rgb',
                           inception_style=style)
    with pytest.raises(FileNotFoundError, match='missing.pt not found'):
        load_local_inception('StyleGAN', str(tmp_path / 'missing.pt'))
    with pytest.raises(ValueError, match='must be a local file'):
        load_local_inception('PyTorch', 'https://example.com/pt_inception.pth')
    junk = tmp_path / 'junk.pt'
    junk.write_bytes(b'not a network')
    with pytest.raises(RuntimeError, match='not a TorchScript'):
        load_local_inception('StyleGAN', str(junk))


@pytest.mark.e2e
def test_pytorch_fid_checkpoint_keys_map_onto_mmagic_inception():
    """pytorch-fid's state dict (keys of torchvision-style FID Inception) must fill
    mmagic's InceptionV3 exactly (weights themselves are not available offline)."""
    from mmagic.evaluation.functional.fid_inception import (InceptionV3,
                                                            fid_inception_v3)
    from cen_mm.translation.evaluation.inception import _pytorch_fid_key_map
    source = fid_inception_v3(load_ckpt=False).state_dict()
    target = InceptionV3([3], resize_input=True, normalize_input=False,
                         load_fid_inception=False).state_dict()
    mapped = _pytorch_fid_key_map(source)
    assert set(mapped) == set(target)
    assert all(mapped[k].shape == target[k].shape for k in target)


def test_dump_results_in_mmagic_loops(setup, tmp_path):
    """TranslationDumpResults works with mmagic's Evaluator (prepare / samplers /
    argument-less evaluate) and pickles exactly the model's outputs."""
    import pickle
    from mmagic.evaluation import Evaluator
    model, loader, outputs = setup
    out = tmp_path / 'preds.pkl'
    evaluator = Evaluator([dict(type='TranslationDumpResults', out_file_path=str(out))])
    evaluator.prepare_metrics(model, loader)
    for metrics, sampler in evaluator.prepare_samplers(model, loader):
        for data in sampler:
            evaluator.process(model.test_step(copy.deepcopy(data)), data, metrics)
    evaluator.evaluate()
    dumped = pickle.load(open(out, 'rb'))
    assert len(dumped) == NUM
    for got, expected in zip(dumped, outputs):
        assert got['sample_name'] == expected['sample_name']
        torch.testing.assert_close(got['fake_rgb'], expected['fake_rgb'])
