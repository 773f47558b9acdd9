"""``TranslationFID``: mmagic's FID of one translation output, local Inception weights.

mmagic's :class:`~mmagic.evaluation.TransFID` compares the Inception (pool3) statistics
of the generated images (``fake_key`` of the model outputs) with those of the real target
images of the evaluation dataset (``real_key``); its feature extraction and Fréchet
distance are used unchanged. This subclass changes how the two inputs are obtained:

* the Inception network comes only from the local ``inception_path`` (see
  :mod:`.inception`), never from a download or random weights;
* the real features are extracted in-process from the evaluation dataloader and shared by
  every metric instance on that dataloader (one pass for all streams and the ensemble).
  mmagic instead caches them on disk under a hash of the dataset *config*, which would
  silently serve stale features after the data or the network changed; a pickle is used
  only when given explicitly as ``inception_pkl``;
* ``fake_nums=-1`` (default) evaluates every sample of the dataset;
* ``protocol`` chooses what Inception sees: ``'plain'`` (default) the images
  themselves; ``'official'`` the official CEN evaluation's inputs — every real and
  generated image min–max stretched, rendered through matplotlib into a 500 px PNG and
  read back (:mod:`.official_rendering`): the protocol behind the papers' FID/KID columns.

Use it in mmagic's ``MultiValLoop``/``MultiTestLoop`` (it needs ``prepare``).
"""
import pickle
import weakref
from typing import Dict, Optional

import numpy as np
import torch
import torch.nn as nn
from mmengine.dataset import pseudo_collate
from mmengine.dist import collect_results, get_dist_info, is_main_process
from mmengine.model import is_model_wrapper
from torch.utils.data import DataLoader

from mmagic.evaluation.metrics import TransFID
from mmagic.registry import METRICS
from .inception import load_local_inception
from .official_rendering import (OFFICIAL_RENDER_SIZE, RENDER_INTERPOLATIONS,
                                 official_protocol_batch)

FID_PROTOCOLS = ('plain', 'official')

# dataloader -> {(real_key, style, inception id, real_nums, protocol): (n, d) real
# features (main process)}
_REAL_FEATURES: 'weakref.WeakKeyDictionary[DataLoader, Dict[tuple, torch.Tensor]]' = \
    weakref.WeakKeyDictionary()


def extract_real_features(metric: 'TranslationFID', module: nn.Module,
                          dataloader: DataLoader) -> Optional[torch.Tensor]:
    """Inception features of ``metric.real_key`` for every sample of the dataset.

    Every rank extracts a strided share; the main process gets all of them in dataset
    order (other ranks: None). Cached per dataloader for all metrics sharing it.
    """
    cache = _REAL_FEATURES.setdefault(dataloader, {})
    key = (metric.real_key, metric.inception_style, id(metric.inception),
           metric.real_nums, metric.protocol_key)
    if key in cache:
        return cache[key]
    dataset = dataloader.dataset
    num = len(dataset) if metric.real_nums == -1 else min(len(dataset),
                                                          metric.real_nums)
    rank, world = get_dist_info()
    # rank-strided share, padded to equal length (collect_results interleaves the
    # ranks' lists back into dataset order and drops the padding)
    share = [(i * world + rank) % num for i in range((num - 1) // world + 1)]
    loader = DataLoader(dataset, batch_size=dataloader.batch_size or 1, sampler=share,
                        collate_fn=pseudo_collate, shuffle=False, drop_last=False)
    feats = []
    for data in loader:
        samples = module.data_preprocessor(data, False)['data_samples']
        if not hasattr(samples, metric.real_key):
            raise KeyError(f'{type(metric).__name__}: the evaluation data samples have '
                           f'no {metric.real_key!r} (real_key)')
        feats.extend(metric.forward_inception(getattr(samples,
                                                      metric.real_key)).cpu())
    gathered = collect_results(feats, num, 'cpu')
    result = torch.stack(gathered) if is_main_process() else None
    cache[key] = result
    return result


@METRICS.register_module()
class TranslationFID(TransFID):
    """FID between ``fake_key`` outputs and ``real_key`` images of the dataset.

    Args:
        fake_key: data-sample key of the prediction, e.g. ``'fake_rgb'`` (ensemble) or
            ``'fake_rgb_from_reshading'`` (one stream).
        real_key: data-sample key of the real images, e.g. ``'img_rgb'``.
        inception_path: local Inception file (None: the default cache location of
            the style; see :mod:`.inception`). Never downloaded.
        inception_style: ``'PyTorch'`` (pytorch-fid's network, as the official CEN
            evaluation) or ``'StyleGAN'`` (TorchScript).
        fake_nums: generated images to use; -1: the whole dataset.
        real_nums: real images to use; -1: the whole dataset.
        inception_pkl: optional pickle with precomputed real statistics (mmagic
            format: ``real_mean``, ``real_cov``); it must have been computed with the
            same ``protocol``.
        protocol: ``'plain'`` (Inception sees the images) or ``'official'`` (the
            official CEN inputs: per-image min–max stretch, matplotlib rendering at
            ``render_size`` px, PNG round trip — for real and generated images alike;
            the papers' numbers). See :mod:`.official_rendering`.
        render_size: side of the rendered PNG (official: 500).
        render_interpolation: matplotlib ``imshow`` interpolation, ``'nearest'``
            (matplotlib < 3.2, the official environment) or ``'antialiased'``.
        prefix: metric name prefix (make it unique per output and stream).
    """
    name = 'FID'

    def __init__(self,
                 fake_key: str,
                 real_key: str,
                 inception_path: Optional[str] = None,
                 inception_style: str = 'PyTorch',
                 fake_nums: int = -1,
                 real_nums: int = -1,
                 inception_pkl: Optional[str] = None,
                 sample_model: str = 'orig',
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 protocol: str = 'plain',
                 render_size: int = OFFICIAL_RENDER_SIZE,
                 render_interpolation: str = 'nearest'):
        if protocol not in FID_PROTOCOLS:
            raise ValueError(f'{type(self).__name__}: protocol must be one of '
                             f'{FID_PROTOCOLS}, got {protocol!r}')
        if render_interpolation not in RENDER_INTERPOLATIONS:
            raise ValueError(f'{type(self).__name__}: render_interpolation must be one '
                             f'of {RENDER_INTERPOLATIONS}, got {render_interpolation!r}')
        if int(render_size) < 1:
            raise ValueError(f'{type(self).__name__}: render_size must be a positive '
                             f'number of pixels, got {render_size!r}')
        self.protocol = protocol
        self.render_size = int(render_size)
        self.render_interpolation = render_interpolation
        self._requested_fake_nums = fake_nums
        super().__init__(
            fake_nums=max(fake_nums, 1), real_nums=real_nums,
            inception_style=inception_style, inception_path=inception_path,
            inception_pkl=inception_pkl, fake_key=fake_key, real_key=real_key,
            sample_model=sample_model, collect_device=collect_device, prefix=prefix)

    @property
    def protocol_key(self) -> tuple:
        """What decides the Inception inputs besides the images (real-feature cache)."""
        if self.protocol == 'plain':
            return ('plain', )
        return (self.protocol, self.render_size, self.render_interpolation)

    def forward_inception(self, image: torch.Tensor) -> torch.Tensor:
        """Features of (N, 3, H, W) BGR 0..255 images under ``protocol``."""
        if self.protocol == 'official':
            image = official_protocol_batch(image, self.render_size,
                                            self.render_interpolation)
        return super().forward_inception(image)

    def _load_inception(self, inception_style: str, inception_path: Optional[str]):
        return load_local_inception(inception_style, inception_path), inception_style

    def prepare(self, module: nn.Module, dataloader: DataLoader) -> None:
        if is_model_wrapper(module):
            module = module.module
        self.data_preprocessor = module.data_preprocessor
        if self._requested_fake_nums == -1:
            self.fake_nums = len(dataloader.dataset)
        self.device = module.data_preprocessor.device
        self.inception.to(self.device)
        self.inception.eval()
        if self.inception_pkl:
            with open(self.inception_pkl, 'rb') as f:
                state = pickle.load(f)
            self.set_real_statistics(state['real_mean'], state['real_cov'])
            return
        feats = extract_real_features(self, module, dataloader)
        if feats is not None:
            self.set_real_features(feats.double().numpy())

    def set_real_features(self, feats: np.ndarray) -> None:
        """Use ``feats`` (n, d) as the features of the real images."""
        self.set_real_statistics(np.mean(feats, 0), np.cov(feats, rowvar=False))

    def set_real_statistics(self, mean: np.ndarray, cov: np.ndarray) -> None:
        self.real_mean, self.real_cov = mean, cov

    def compute_metrics(self, fake_results: list) -> dict:
        if self.real_mean is None:
            raise RuntimeError(f'{type(self).__name__} ({self.prefix}): no real '
                               'statistics; prepare() was not called (use mmagic\'s '
                               'MultiValLoop / MultiTestLoop)')
        return super().compute_metrics(fake_results)
