"""Segmentation side: knows mmseg, never mmagic. Registers into mmseg's registries."""
from . import datasets, evaluation, models  # noqa: F401
