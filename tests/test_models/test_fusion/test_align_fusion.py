"""AlignFusion and mk_mmd: MK-MMD against a direct formula, shapes, loss, gradients."""
import math

import pytest
import torch

from cen_mm.models.fusion import AlignFusion, gaussian_kernel_bandwidths, mk_mmd


def direct_mk_mmd(x, y, num_kernels, kernel_mul):
    """Loops over sample pairs: mean-of-Gaussians kernel, biased MMD^2."""
    z = torch.cat([x, y]).double()
    total = len(z)
    dists = [[float(((z[i] - z[j])**2).sum()) for j in range(total)]
             for i in range(total)]
    base = sum(dists[i][j] for i in range(total) for j in range(total) if i != j) / (
        total * total - total)
    widths = [base * kernel_mul**(j - num_kernels // 2) for j in range(num_kernels)]

    def k(i, j):
        return sum(math.exp(-dists[i][j] / s) for s in widths) / num_kernels

    n, m = len(x), len(y)
    kxx = sum(k(i, j) for i in range(n) for j in range(n)) / n**2
    kyy = sum(k(n + i, n + j) for i in range(m) for j in range(m)) / m**2
    kxy = sum(k(i, n + j) for i in range(n) for j in range(m)) / (n * m)
    return kxx + kyy - 2 * kxy


def test_mk_mmd_matches_the_direct_formula():
    torch.manual_seed(0)
    x, y = torch.randn(5, 3), torch.randn(4, 3) + 1.0
    value = mk_mmd(x, y, num_kernels=11, kernel_mul=2.0)
    assert value.item() == pytest.approx(direct_mk_mmd(x, y, 11, 2.0), rel=1e-5)
    assert value.item() > 0.05
    assert mk_mmd(x, x).item() == pytest.approx(0.0, abs=1e-6)


def test_bandwidths_are_centred_on_the_base():
    widths = gaussian_kernel_bandwidths(torch.tensor(3.0), num_kernels=11)
    assert widths.shape == (11, )
    assert widths[5].item() == 3.0
    torch.testing.assert_close(widths[1:] / widths[:-1], torch.full((10, ), 2.0))


def test_align_fusion_shapes_params_and_loss():
    torch.manual_seed(0)
    C = 6
    fusion = AlignFusion(channels=C)
    assert sum(p.numel() for p in fusion.parameters()) == 10 * C * C + 5 * C
    a, b = torch.randn(2, C, 3, 4), torch.randn(2, C, 3, 4)
    out = fusion([a, b])
    assert out.shape == (2, C, 3, 4)
    commons = [fusion.common[0](a), fusion.common[1](b)]
    specifics = [fusion.specific[0](a), fusion.specific[1](b)]
    expected = fusion.fuse_conv(torch.cat([a, b] + commons + specifics, 1))
    torch.testing.assert_close(out, expected)
    samples = [c.permute(0, 2, 3, 1).reshape(-1, C) for c in commons]
    assert fusion.last_loss.dim() == 0
    assert fusion.last_loss.item() == pytest.approx(
        direct_mk_mmd(samples[0].detach(), samples[1].detach(), 11, 2.0), rel=1e-4)


def test_align_loss_trains_the_common_projections():
    torch.manual_seed(0)
    fusion = AlignFusion(channels=4, loss_weight=2.0)
    a = torch.randn(1, 4, 3, 3, requires_grad=True)
    b = torch.randn(1, 4, 3, 3) + 2.0
    fusion([a, b])
    first = fusion.last_loss
    first.backward()
    assert fusion.common[0].weight.grad.abs().sum() > 0
    assert fusion.specific[0].weight.grad is None  # the loss sees common parts only
    assert a.grad.abs().sum() > 0
    # a few plain gradient steps on the loss alone reduce it
    params = list(fusion.common.parameters())
    for _ in range(10):
        for p in params:
            p.grad = None
        fusion([a.detach(), b])
        fusion.last_loss.backward()
        with torch.no_grad():
            for p in params:
                p -= 0.1 * p.grad
    assert fusion.last_loss.item() < first.item()


def test_align_fusion_eval_and_subsampling():
    fusion = AlignFusion(channels=3, max_samples=8).eval()
    fusion([torch.randn(1, 3, 4, 4), torch.randn(1, 3, 4, 4)])
    assert fusion.last_loss.item() == 0.0
    fusion.train()
    fusion([torch.randn(1, 3, 4, 4), torch.randn(1, 3, 4, 4)])  # 16 > 8 positions
    assert torch.isfinite(fusion.last_loss) and fusion.last_loss.item() > 0
