"""Scope-neutral CEN models (mmengine root MODELS registry): backbones, necks, and the
image-translation generators/discriminator, and the multimodal fusion blocks."""
from . import backbones, fusion, generators, necks  # noqa: F401
