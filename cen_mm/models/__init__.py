"""Scope-neutral CEN models (mmengine root MODELS registry): backbones, necks, and the
image-translation generators/discriminator."""
from . import backbones, generators, necks  # noqa: F401
