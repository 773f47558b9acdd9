"""Segmentation side: knows mmseg, never mmagic. Registers into mmseg's registries."""
from . import datasets, evaluation, models  # noqa: F401
from . import apis, visualization  # noqa: F401,E402  (inferencer loader, visualizer, hook)
