"""Every cen_mm registry name resolves from each scope that should see it."""
import importlib

import pytest

import cen_mm  # noqa: F401

# (registry attribute, name, defining module) of scope-neutral pieces: root registries.
SCOPE_NEUTRAL = [
    ('MODELS', 'ModalityNorm', 'cen_mm.core.modality_norm'),
    ('MODELS', 'CENResNet', 'cen_mm.models.backbones.cen_resnet'),
    ('MODELS', 'MultiStreamBackbone', 'cen_mm.models.backbones.multi_stream_backbone'),
    ('MODELS', 'ModalityLayerNorm', 'cen_mm.core.modality_layer_norm'),
    ('MODELS', 'ExchangeNeck', 'cen_mm.models.necks.exchange_neck'),
    ('MODELS', 'SelectStream', 'cen_mm.models.necks.select_stream'),
    ('MODELS', 'ModalityConv2d', 'cen_mm.models.backbones.modality_conv'),
    ('MODELS', 'CENUnetGenerator', 'cen_mm.models.generators.cen_unet'),
    ('MODELS', 'CENPatchDiscriminator', 'cen_mm.models.generators.patch_discriminator'),
    ('MODELS', 'StreamGridNorm', 'cen_mm.models.generators.stream_grid_norm'),
    ('HOOKS', 'CENSparsityHook', 'cen_mm.engine.hooks.sparsity_hook'),
    ('HOOKS', 'ExchangeStatsHook', 'cen_mm.engine.hooks.exchange_stats_hook'),
    ('OPTIM_WRAPPERS', 'CPUAmpOptimWrapper', 'cen_mm.engine.optimizers.amp_optim_wrapper'),
    ('MODEL_WRAPPERS', 'CPUSafeDistributedDataParallel',
     'cen_mm.engine.runner.model_wrappers'),
    ('MODEL_WRAPPERS', 'CPUSafeSeparateDistributedDataParallel',
     'cen_mm.engine.runner.model_wrappers'),
]
# mmseg-only pieces: mmseg's registries.
SEG_ONLY = [
    ('MODELS', 'RefineNetHead', 'cen_mm.seg.models.decode_heads.refinenet_head'),
    ('MODELS', 'CENEncoderDecoder', 'cen_mm.seg.models.segmentors.cen_encoder_decoder'),
    ('DATASETS', 'NYUDv2Dataset', 'cen_mm.seg.datasets.nyudv2'),
    ('DATASETS', 'SUNRGBDDataset', 'cen_mm.seg.datasets.sunrgbd'),
    ('DATASETS', 'SynthRGBDDataset', 'cen_mm.seg.datasets.synth_rgbd'),
    ('DATASETS', 'RGBDSegDataset', 'cen_mm.seg.datasets.rgbd_dataset'),
    ('TRANSFORMS', 'LoadRGBDFromFile', 'cen_mm.seg.datasets.transforms.loading'),
    ('TRANSFORMS', 'LoadRGBDAnnotations', 'cen_mm.seg.datasets.transforms.loading'),
    ('TRANSFORMS', 'RGBOnlyPhotoMetricDistortion',
     'cen_mm.seg.datasets.transforms.photometric'),
]
SCOPES = ['mmseg', 'mmagic', 'mmpretrain']


def _registry(scope, attr):
    return getattr(importlib.import_module(f'{scope}.registry'), attr)


def _cls(module, name):
    return getattr(importlib.import_module(module), name)


@pytest.mark.parametrize('scope', SCOPES)
@pytest.mark.parametrize('attr,name,module', SCOPE_NEUTRAL)
def test_scope_neutral_visible_from_every_scope(scope, attr, name, module):
    from mmengine.registry import DefaultScope
    registry = _registry(scope, attr)
    with DefaultScope.overwrite_default_scope(scope):
        assert registry.get(name) is _cls(module, name)


# mmpretrain-only pieces (``cen_mm.cls``).
CLS_ONLY = [
    ('MODELS', 'CENImageClassifier', 'cen_mm.cls.models.cen_image_classifier'),
]
# mmagic-only pieces (``cen_mm.translation``).
_T = 'cen_mm.translation'
TRANSLATION_ONLY = [
    ('MODELS', 'CENPix2Pix', f'{_T}.models.cen_pix2pix'),
    ('DATASETS', 'TaskonomyDataset', f'{_T}.datasets.taskonomy'),
    ('DATASETS', 'SynthMultiDomainDataset', f'{_T}.datasets.synth_dataset'),
    ('TRANSFORMS', 'LoadTaskonomyDomains', f'{_T}.datasets.transforms'),
    ('TRANSFORMS', 'LoadSynthDomains', f'{_T}.datasets.transforms'),
    ('TRANSFORMS', 'PackDomains', f'{_T}.datasets.transforms'),
    ('METRICS', 'TranslationFID', f'{_T}.evaluation.fid'),
    ('METRICS', 'TranslationKID', f'{_T}.evaluation.kid'),
    ('METRICS', 'TranslationMAE', f'{_T}.evaluation.pixel_errors'),
    ('METRICS', 'TranslationMSE', f'{_T}.evaluation.pixel_errors'),
    ('METRICS', 'TranslationDumpResults', f'{_T}.evaluation.dump_results'),
]


@pytest.mark.parametrize('scope,attr,name,module',
                         [('mmseg', *e) for e in SEG_ONLY] +
                         [('mmpretrain', *e) for e in CLS_ONLY] +
                         [('mmagic', *e) for e in TRANSLATION_ONLY])
def test_scope_specific_pieces_registered_in_their_scope_only(scope, attr, name, module):
    from mmengine import registry as root
    cls = _cls(module, name)  # cen_mm.cls / .translation: explicit custom_imports
    registry = _registry(scope, attr)
    assert registry.get(name) is cls
    assert name in registry.module_dict            # registered in that scope itself
    assert getattr(root, attr).get(name) is None  # not leaked into the root
