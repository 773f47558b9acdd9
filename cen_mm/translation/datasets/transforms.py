"""Pipeline transforms for multi-domain translation data (mmagic ``TRANSFORMS``).

A sample's domains travel through the pipeline as one *list* ``results['img']`` (in the
order of ``results['domains']``), so mmagic's ``Resize``, ``FixedCrop`` and ``Flip`` with
``keys=['img']`` apply the *same* random resize/crop/flip to every domain, and the
pipelines do not depend on which domains a config uses. ``PackDomains`` then splits the
list into ``img_<domain>`` inputs / data-sample fields, the keys ``CENPix2Pix`` reads.

Images are ``(H, W, 3)`` uint8 arrays in **BGR** order (``img_<domain>_channel_order`` =
``'BGR'``), the order of every image in mmagic (cv2 loading). Inputs, targets and outputs
then share one order and mmagic's data preprocessor never converts: it records the same
``img_<domain>_output_channel_order`` for a key whether the key is a model input or a
data-sample field, so with RGB inputs ``destruct`` would leave the outputs RGB while the
targets are BGR. FID flips to RGB for Inception and the visualiser uses ``bgr2rgb``.
"""
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmcv.transforms import BaseTransform
from PIL import Image

from mmagic.datasets.transforms import PackInputs
from mmagic.registry import TRANSFORMS
from .domain_decoding import decode_domain, domain_decoding
from .synth_domains import render_synth_domains


def read_png(path: str) -> np.ndarray:
    """Read an image keeping its bit depth (8-bit RGB/L, 16-bit I;16).

    A missing file raises FileNotFoundError, a truncated or corrupt one a one-line
    OSError naming the file and the fix.
    """
    try:
        with Image.open(path) as img:
            return np.array(img)
    except FileNotFoundError:
        raise FileNotFoundError(f'domain image {path} does not exist') from None
    except (OSError, SyntaxError, ValueError) as err:
        detail = (str(err).strip().splitlines() or [''])[0][:200]
        raise OSError(f'domain image {path} cannot be decoded ({type(err).__name__}: '
                      f'{detail}): the file is truncated or corrupt (e.g. an '
                      f'interrupted download or extraction). Restore it from the '
                      f'Taskonomy archive, or remove its line from the list file.'
                      ) from None


def _domains_of(results: dict, domains: Optional[Sequence[str]]) -> List[str]:
    if domains is not None:
        return list(domains)
    if 'domains' not in results:
        raise KeyError('no `domains` given to the transform and none in the sample '
                       '(TaskonomyDataset / SynthMultiDomainDataset put them there)')
    return list(results['domains'])


def _check_same_size(images: Sequence[np.ndarray], domains: Sequence[str],
                     sample: str) -> None:
    sizes = {d: img.shape[:2] for d, img in zip(domains, images)}
    if len(set(sizes.values())) > 1:
        raise ValueError(f'sample {sample!r}: the domains have different sizes '
                         f'{sizes}; all views of one sample must be pixel-aligned')


def _store(results: dict, domains: Sequence[str], images: List[np.ndarray]) -> dict:
    """Store RGB-decoded images as the BGR list ``results['img']``."""
    results['domains'] = list(domains)
    results['img'] = [np.ascontiguousarray(img[..., ::-1]) for img in images]
    results['img_channel_order'] = 'BGR'
    results['ori_img_shape'] = images[0].shape
    return results


@TRANSFORMS.register_module()
class LoadTaskonomyDomains(BaseTransform):
    """Read ``results['img_<domain>_path']`` for every domain and decode it.

    Args:
        domains: domains to load (default: ``results['domains']`` from the dataset).
        decode: per-domain decoding overrides, see
            :mod:`cen_mm.translation.datasets.domain_decoding` (defaults reproduce the
            official code: log depth / 11.1, edges / 11355 or 11584, gray -> 3 ch.).
        depth_holes: what Taskonomy's invalid depth (65535) decodes to: ``'far'``
            (254, the papers' runs: official code under Pillow < 10.3) or ``'zero'``
            (0, the official code under Pillow >= 10.3).

    Adds ``img`` (list of (H, W, 3) uint8, BGR), ``domains``, ``img_channel_order``.
    """

    def __init__(self, domains: Optional[Sequence[str]] = None,
                 decode: Optional[Dict[str, dict]] = None,
                 depth_holes: str = 'far'):
        self.domains = None if domains is None else list(domains)
        self.decode = dict(decode or {})
        self.depth_holes = depth_holes
        domain_decoding('depth_euclidean', None, depth_holes)  # validate early
        for domain in self.decode:
            domain_decoding(domain, self.decode, depth_holes)

    def transform(self, results: dict) -> dict:
        domains = _domains_of(results, self.domains)
        sample = results.get('sample_name', '?')
        images = []
        for domain in domains:
            key = f'img_{domain}_path'
            if key not in results:
                raise KeyError(f'sample {sample!r} has no {key!r} (domains of the '
                               f'dataset: {results.get("domains")})')
            path = results[key]
            images.append(
                decode_domain(read_png(path), domain,
                              domain_decoding(domain, self.decode, self.depth_holes),
                              path))
        _check_same_size(images, domains, sample)
        return _store(results, domains, images)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(domains={self.domains}, '
                f'decode={self.decode}, depth_holes={self.depth_holes!r})')


@TRANSFORMS.register_module()
class LoadSynthDomains(BaseTransform):
    """Render the procedural multi-domain scene of ``results['synth_seed']``.

    Args:
        size: image side in pixels.
        domains: domains to render (default: ``results['domains']``).
    """

    def __init__(self, size: int = 64, domains: Optional[Sequence[str]] = None):
        self.size = int(size)
        self.domains = None if domains is None else list(domains)

    def transform(self, results: dict) -> dict:
        domains = _domains_of(results, self.domains)
        rendered = render_synth_domains(int(results['synth_seed']), self.size, domains)
        return _store(results, domains, [rendered[d] for d in domains])

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(size={self.size}, domains={self.domains})'


@TRANSFORMS.register_module()
class PackDomains(BaseTransform):
    """Split ``results['img']`` into ``img_<domain>`` and pack them with mmagic's
    ``PackInputs`` (as model inputs and as data-sample fields for metrics/visualisers).

    Args:
        meta_keys: extra result keys copied to the data-sample metainfo (the per-domain
            ``img_<domain>_path`` and ``img_<domain>_channel_order`` always are).
    """

    def __init__(self, meta_keys: Sequence[str] = ('sample_name', 'sample_idx')):
        self.meta_keys = list(meta_keys)

    def transform(self, results: dict) -> dict:
        domains = list(results['domains'])
        images = results.pop('img')
        if len(images) != len(domains):
            raise ValueError(f'PackDomains: {len(images)} images for domains {domains}')
        order = results.pop('img_channel_order', 'BGR')
        keys, meta = [], list(self.meta_keys)
        for domain, image in zip(domains, images):
            key = f'img_{domain}'
            results[key] = image
            results[f'{key}_channel_order'] = order
            keys.append(key)
            meta.append(f'{key}_channel_order')
            if f'{key}_path' in results:
                meta.append(f'{key}_path')
        meta = [k for k in meta if k in results]
        return PackInputs(keys=keys, data_keys=keys, meta_keys=meta)(results)

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(meta_keys={self.meta_keys})'
