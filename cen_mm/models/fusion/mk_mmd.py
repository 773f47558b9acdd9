"""Multiple-kernel maximum mean discrepancy (MK-MMD) with Gaussian kernels.

For samples X (n, d) and Y (m, d) and kernels k_j(a, b) = exp(-|a - b|^2 / s_j)::

    MK-MMD^2(X, Y) = mean_ij K(x_i, x_j) + mean_ij K(y_i, y_j) - 2 mean_ij K(x_i, y_j)
    K = (1 / J) * sum_j k_j                       (equal kernel weights; biased estimate)

Bandwidths (the usual DAN-style family): s_j = s_0 * kernel_mul ** (j - J // 2),
j = 0..J-1, centred on s_0 = the mean squared distance between distinct samples of
X u Y (detached; no gradient through the bandwidth) unless ``base_bandwidth`` is given.
"""
from typing import Optional

import torch
from torch import Tensor


def gaussian_kernel_bandwidths(base: Tensor, num_kernels: int = 11,
                               kernel_mul: float = 2.0) -> Tensor:
    """The J bandwidths ``base * kernel_mul ** (j - J // 2)``, shape (J,)."""
    exponents = torch.arange(num_kernels, dtype=base.dtype,
                             device=base.device) - num_kernels // 2
    return base * kernel_mul**exponents


def mk_mmd(x: Tensor, y: Tensor, num_kernels: int = 11, kernel_mul: float = 2.0,
           base_bandwidth: Optional[float] = None) -> Tensor:
    """MK-MMD^2 between the sample sets ``x`` (n, d) and ``y`` (m, d); a scalar >= 0
    (up to rounding), 0 for identical sets."""
    if x.dim() != 2 or y.dim() != 2 or x.shape[1] != y.shape[1]:
        raise ValueError(f'mk_mmd expects (n, d) and (m, d) samples, got '
                         f'{tuple(x.shape)} and {tuple(y.shape)}')
    if num_kernels < 1:
        raise ValueError(f'mk_mmd: num_kernels must be >= 1, got {num_kernels}')
    n = x.shape[0]
    z = torch.cat([x, y]).float()
    sq_dist = torch.cdist(z, z).pow(2)
    if base_bandwidth is None:
        total = z.shape[0]
        base = sq_dist.detach().sum() / max(total * total - total, 1)
        base = base.clamp_min(torch.finfo(base.dtype).tiny)
    else:
        base = torch.as_tensor(float(base_bandwidth), dtype=z.dtype, device=z.device)
    bandwidths = gaussian_kernel_bandwidths(base, num_kernels, kernel_mul)
    kernel = torch.exp(-sq_dist[None] / bandwidths[:, None, None]).mean(dim=0)
    k_xx = kernel[:n, :n].mean()
    k_yy = kernel[n:, n:].mean()
    k_xy = kernel[:n, n:].mean()
    return k_xx + k_yy - 2 * k_xy
