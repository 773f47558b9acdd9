"""CENPatchDiscriminator / CENUnetGenerator initialisation through mmengine's
``init_cfg`` (``pix2pix_init_cfg``): the same numbers as the hand-written N(0, σ) conv
loop it replaced, and ``Pretrained`` still loads. That the discriminator is mmagic's
PatchDiscriminator architecture is tested in
test_cen_unet.py::test_patch_discriminator_equals_mmagic."""
import pytest
import torch
import torch.nn as nn

from cen_mm.models.generators import CENPatchDiscriminator, CENUnetGenerator
from cen_mm.models.generators.weight_init import pix2pix_init_cfg

CONVS = (nn.Conv2d, nn.ConvTranspose2d)


def reference_init(module, std):
    """The loop the models used before: convs N(0, std), bias 0, in modules() order."""
    for m in module.modules():
        if isinstance(m, CONVS):
            nn.init.normal_(m.weight, 0.0, std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


def _fill(module, value=3.0):
    with torch.no_grad():
        for p in module.parameters():
            p.fill_(value)


@pytest.mark.parametrize('std', [0.02, 0.1])
def test_discriminator_init_equals_the_reference(std):
    ours, ref = (CENPatchDiscriminator(6, base_channels=4, init_std=std)
                 for _ in range(2))
    assert ours.init_cfg == pix2pix_init_cfg(std)
    _fill(ours), _fill(ref)
    torch.manual_seed(0)
    ours.init_weights()
    torch.manual_seed(0)
    reference_init(ref, std)
    for (key, a), b in zip(ours.state_dict().items(), ref.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=0, atol=0, msg=key)
    norm = ours.model[3]  # untouched by the init: still the filled value
    assert isinstance(norm, nn.InstanceNorm2d) and torch.all(norm.weight == 3.0)
    assert ours.model[0].weight.std().item() == pytest.approx(std, rel=0.3)


@pytest.mark.parametrize('kwargs', [
    dict(num_inputs=2),
    dict(num_inputs=1, num_tasks=2, separate_decoders=True, decoder_exchange=True),
])
def test_generator_init_equals_the_reference(kwargs):
    ours, ref = (CENUnetGenerator(num_down=5, base_channels=4, **kwargs)
                 for _ in range(2))
    _fill(ours), _fill(ref)
    torch.manual_seed(0)
    ours.init_weights()  # mmengine: init_cfg on the convs, then ensemble.init_weights
    torch.manual_seed(0)
    reference_init(ref, 0.02)
    ref.ensemble.init_weights()
    for (key, a), b in zip(ours.state_dict().items(), ref.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=0, atol=0, msg=key)
    if ours.ensemble.alpha is not None:
        assert torch.all(ours.ensemble.alpha == ours.ensemble.init_value)


def test_pretrained_init_cfg_loads_the_checkpoint(tmp_path):
    src = CENPatchDiscriminator(6, base_channels=4)
    src.init_weights()
    path = tmp_path / 'disc.pth'
    torch.save(src.state_dict(), path)
    loaded = CENPatchDiscriminator(
        6, base_channels=4, init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    loaded.init_weights()
    for key, value in src.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value), key
