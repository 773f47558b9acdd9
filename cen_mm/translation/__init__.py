"""The mmagic side of cen_mm: CEN for image-to-image translation (TPAMI'23 §3.2–3.5).

``custom_imports=dict(imports=['cen_mm', 'cen_mm.translation'])`` registers, in mmagic's
registries, the ``CENPix2Pix`` model, the Taskonomy / synthetic multi-domain datasets and
their transforms, the FID/KID/MAE/MSE metrics, and ``CENTranslationRunner`` (fills
the config entries that follow from ``tasks``: :mod:`cen_mm.translation.task_keys`).
The networks themselves (``CENUnetGenerator``, ``CENPatchDiscriminator``) are
scope-neutral, in ``cen_mm.models.generators``. Importing this package imports
mmagic; the segmentation side (``cen_mm.seg``) never does.
"""
from cen_mm.models import generators  # noqa: F401  (registers the networks)
from . import datasets, evaluation, models  # noqa: F401
from .task_keys import CENTranslationRunner, fill_task_keys

__all__ = [
    'datasets', 'evaluation', 'models', 'CENTranslationRunner', 'fill_task_keys'
]
