"""``TranslationMAE`` / ``TranslationMSE``: pixel errors of non-RGB outputs, paper units.

The CEN papers report MAE and "MSE" × 10⁻² for depth, normals, shading, ... The official
evaluation computes them on the network's [-1, 1] scale — ``L1Loss(out, target)`` and
``MSELoss(out, target)`` per test image — and prints the mean L1 and the *square root* of
the mean MSE (``rl2_avg_loss``); the tables' second number is that root (it exceeds the
MAE, e.g. 2.75 / 6.60 for RGB+Edge→Depth, which a plain MSE of errors in [-2, 2] could
not). So, per image i with prediction p and target g in 0–255 (mmagic's outputs):

    e_i = (p - g) / 255 · (hi - lo)           (value_range = (lo, hi) = (-1, 1))
    MAE = scale · mean_i mean|e_i|            MSE = scale · mean_i mean(e_i²)
    root_of_mean=True:  scale · sqrt(mean_i mean(e_i²))   (the papers' column)

These subclass mmagic's ``MAE``/``MSE`` (sample-wise metrics for ``MultiValLoop``) and
read prediction and target straight from the data sample: mmagic 1.2.0 looks the prediction
up under ``data['output']``, which its translation models never set.
"""
from typing import Optional, Sequence, Tuple

import numpy as np
import torch

from mmagic.evaluation.metrics import MAE, MSE
from mmagic.registry import METRICS


class _PixelErrorMixin:
    """Shared ``process`` for the CEN pixel-error metrics."""

    def _setup(self, value_range: Tuple[float, float]) -> None:
        lo, hi = value_range
        if not hi > lo:
            raise ValueError(f'value_range must be (lo, hi) with hi > lo, got '
                             f'{value_range}')
        self.value_range = (float(lo), float(hi))

    def _image(self, sample: dict, key: str) -> torch.Tensor:
        if key not in sample:
            raise KeyError(f'{type(self).__name__} ({self.prefix}): the model outputs '
                           f'have no {key!r}; available: {sorted(sample)}')
        value = sample[key]
        if isinstance(value, dict) and 'data' in value:
            value = value['data']
        return torch.as_tensor(value).double().cpu()

    def process(self, data_batch: Sequence[dict], data_samples: Sequence[dict]) -> None:
        lo, hi = self.value_range
        for sample in data_samples:
            pred = self._image(sample, self.pred_key)
            gt = self._image(sample, self.gt_key)
            if pred.shape != gt.shape:
                raise ValueError(f'{type(self).__name__} ({self.prefix}): '
                                 f'{self.pred_key} has shape {tuple(pred.shape)} but '
                                 f'{self.gt_key} has {tuple(gt.shape)}')
            error = (pred - gt) / 255.0 * (hi - lo)
            self.results.append({self.metric: self.image_error(error)})


@METRICS.register_module()
class TranslationMAE(_PixelErrorMixin, MAE):
    """Mean absolute error on ``value_range`` (default [-1, 1]) × ``scale``.

    Args:
        fake_key: data-sample key of the prediction, e.g. ``'fake_depth_zbuffer'``
            (named as in :class:`TranslationFID`).
        real_key: key of the target, e.g. ``'img_depth_zbuffer'``.
        value_range: scale on which errors are measured ((-1, 1): the network's).
        scale: factor of the reported value (100: the papers' ×10⁻² unit).
        prefix: metric name prefix (unique per output and stream).
    """
    metric = 'MAE'

    def __init__(self,
                 fake_key: str,
                 real_key: str,
                 value_range: Tuple[float, float] = (-1.0, 1.0),
                 scale: float = 100.0,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None):
        super().__init__(gt_key=real_key, pred_key=fake_key, scaling=scale,
                         collect_device=collect_device, prefix=prefix)
        self._setup(value_range)

    @staticmethod
    def image_error(error: torch.Tensor) -> float:
        return float(error.abs().mean())


@METRICS.register_module()
class TranslationMSE(_PixelErrorMixin, MSE):
    """Mean squared error on ``value_range`` × ``scale``; with ``root_of_mean`` the root
    of the mean over images (the papers' "MSE" column).

    Args:
        fake_key, real_key, value_range, scale, prefix: as :class:`TranslationMAE`.
        root_of_mean: report ``scale · sqrt(mean_i MSE_i)``; the metric is then named
            ``RMSE``.
    """
    metric = 'MSE'

    def __init__(self,
                 fake_key: str,
                 real_key: str,
                 value_range: Tuple[float, float] = (-1.0, 1.0),
                 scale: float = 100.0,
                 root_of_mean: bool = False,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None):
        super().__init__(gt_key=real_key, pred_key=fake_key, scaling=scale,
                         collect_device=collect_device, prefix=prefix)
        self._setup(value_range)
        self.root_of_mean = root_of_mean
        if root_of_mean:
            self.metric = 'RMSE'

    @staticmethod
    def image_error(error: torch.Tensor) -> float:
        return float((error**2).mean())

    def compute_metrics(self, results: list) -> dict:
        mean = float(np.mean([r[self.metric] for r in results]))
        value = np.sqrt(mean) if self.root_of_mean else mean
        return {self.metric: value * self.scaling}
