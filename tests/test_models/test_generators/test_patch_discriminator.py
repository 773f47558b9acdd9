"""CENPatchDiscriminator / CENUnetGenerator initialisation through mmengine's
``init_cfg`` (``pix2pix_init_cfg``): the same numbers as the hand-written N(0, σ) conv
loop it replaced; and the discriminator is mmagic's PatchDiscriminator architecture
(with affine instance norm) without being its subclass (see its module docstring)."""
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


@pytest.mark.e2e  # imports mmagic.models (~10 s on a busy machine)
def test_same_architecture_as_mmagic_patch_discriminator():
    """Same layers in the same order and the same parameter count as mmagic's
    PatchDiscriminator with ``norm_cfg=dict(type='IN', affine=True)`` (the Table 6
    count in test_paper_protocol_translation.py rests on this): with its weights
    copied in order, the outputs are equal."""
    from mmagic.models.archs.patch_disc import PatchDiscriminator
    for base, num_conv in ((64, 3), (8, 2)):
        ours = CENPatchDiscriminator(6, base_channels=base, num_conv=num_conv)
        theirs = PatchDiscriminator(6, base_channels=base, num_conv=num_conv,
                                    norm_cfg=dict(type='IN', affine=True))
        ours_params, theirs_params = list(ours.parameters()), list(theirs.parameters())
        assert [p.shape for p in ours_params] == [p.shape for p in theirs_params]
        if base == 64:
            assert sum(p.numel() for p in ours_params) == 2_769_601
        with torch.no_grad():
            for a, b in zip(theirs_params, ours_params):
                a.copy_(torch.randn_like(a))
                b.copy_(a)
        x = torch.randn(2, 6, 64, 64)
        torch.testing.assert_close(ours(x), theirs(x))
