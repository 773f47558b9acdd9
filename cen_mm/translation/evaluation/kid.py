"""``TranslationKID``: Kernel Inception Distance (Bińkowski et al. 2018), as in CEN.

KID is the squared MMD between the Inception pool3 features of generated (X) and real
(Y) images under the polynomial kernel ``k(a, b) = (γ·a·b + c0)^d`` (d = 3,
γ = 1/dim, c0 = 1), estimated without bias on random subsets of equal size m::

    MMD² = Σ_{i≠j} k(x_i, x_j) / (m(m-1)) + Σ_{i≠j} k(y_i, y_j) / (m(m-1))
           - 2 Σ_{i,j} k(x_i, y_j) / m²

averaged over ``num_subsets`` subsets of ``subset_size`` (capped at the number of
samples) drawn without replacement — the official CEN evaluation (after the MMD-GAN
code): 50 subsets of 1000. The papers report KID × 100 ("×10⁻²"), hence ``scale=100``.
mmagic 1.2.0 has no KID metric; the features come from :class:`TranslationFID`'s
machinery (same Inception, same real-feature pass).
"""
from typing import Optional, Tuple

import numpy as np

from mmagic.registry import METRICS
from .fid import TranslationFID
from .official_rendering import OFFICIAL_RENDER_SIZE


def polynomial_mmd2_unbiased(x: np.ndarray, y: np.ndarray, degree: int = 3,
                             gamma: Optional[float] = None,
                             coef0: float = 1.0) -> float:
    """Unbiased MMD² of (m, d) ``x`` and (n, d) ``y`` under the polynomial kernel."""
    m, n = x.shape[0], y.shape[0]
    if m < 2 or n < 2:
        raise ValueError(f'KID needs at least 2 samples per set, got {m} and {n}')
    gamma = 1.0 / x.shape[1] if gamma is None else gamma
    k_xx = (gamma * x @ x.T + coef0)**degree
    k_yy = (gamma * y @ y.T + coef0)**degree
    k_xy = (gamma * x @ y.T + coef0)**degree
    return float((k_xx.sum() - np.trace(k_xx)) / (m * (m - 1)) +
                 (k_yy.sum() - np.trace(k_yy)) / (n * (n - 1)) -
                 2 * k_xy.sum() / (m * n))


def kid_over_subsets(fake: np.ndarray, real: np.ndarray, num_subsets: int = 50,
                     subset_size: int = 1000, seed: int = 0, degree: int = 3,
                     gamma: Optional[float] = None,
                     coef0: float = 1.0) -> Tuple[float, float]:
    """Mean and standard deviation of the unbiased MMD² over random equal-size subsets."""
    size = min(subset_size, len(fake), len(real))
    rng = np.random.default_rng(seed)
    values = [
        polynomial_mmd2_unbiased(fake[rng.choice(len(fake), size, replace=False)],
                                 real[rng.choice(len(real), size, replace=False)],
                                 degree, gamma, coef0) for _ in range(num_subsets)
    ]
    return float(np.mean(values)), float(np.std(values))


@METRICS.register_module()
class TranslationKID(TranslationFID):
    """KID between ``fake_key`` outputs and ``real_key`` images of the dataset.

    Args:
        num_subsets: random subsets averaged (50).
        subset_size: samples per subset (1000, capped at the available samples).
        degree, gamma, coef0: polynomial kernel (3, 1/dim, 1).
        scale: factor of the reported value (100: the papers' ×10⁻² unit).
        seed: seed of the subset sampling.
        protocol, render_size, render_interpolation: what Inception sees, see
            :class:`TranslationFID` (``'official'``: the papers' protocol).
        Others: see :class:`TranslationFID` (``inception_pkl`` is not supported:
            KID needs the real features themselves).

    Reports ``kid`` (mean × scale) and ``kid_std`` (std over subsets × scale).
    """
    name = 'KID'

    def __init__(self,
                 fake_key: str,
                 real_key: str,
                 inception_path: Optional[str] = None,
                 inception_style: str = 'PyTorch',
                 fake_nums: int = -1,
                 real_nums: int = -1,
                 num_subsets: int = 50,
                 subset_size: int = 1000,
                 degree: int = 3,
                 gamma: Optional[float] = None,
                 coef0: float = 1.0,
                 scale: float = 100.0,
                 seed: int = 0,
                 sample_model: str = 'orig',
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 protocol: str = 'plain',
                 render_size: int = OFFICIAL_RENDER_SIZE,
                 render_interpolation: str = 'nearest'):
        super().__init__(
            fake_key, real_key, inception_path=inception_path,
            inception_style=inception_style, fake_nums=fake_nums,
            real_nums=real_nums, inception_pkl=None, sample_model=sample_model,
            collect_device=collect_device, prefix=prefix, protocol=protocol,
            render_size=render_size, render_interpolation=render_interpolation)
        self.num_subsets = num_subsets
        self.subset_size = subset_size
        self.degree = degree
        self.gamma = gamma
        self.coef0 = coef0
        self.scale = scale
        self.seed = seed
        self.real_feats: Optional[np.ndarray] = None

    def set_real_features(self, feats: np.ndarray) -> None:
        self.real_feats = feats

    def compute_metrics(self, fake_results: list) -> dict:
        if self.real_feats is None:
            raise RuntimeError(f'{type(self).__name__} ({self.prefix}): no real '
                               'features; prepare() was not called (use mmagic\'s '
                               'MultiValLoop / MultiTestLoop)')
        fake = np.concatenate([f.reshape(1, -1) for f in
                               (r.cpu().double().numpy() for r in fake_results)])
        mean, std = kid_over_subsets(fake, self.real_feats, self.num_subsets,
                                     self.subset_size, self.seed, self.degree,
                                     self.gamma, self.coef0)
        return dict(kid=mean * self.scale, kid_std=std * self.scale)
