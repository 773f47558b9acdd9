"""Scope-neutral CEN models (mmengine root MODELS registry): backbones, necks."""
from . import backbones, necks  # noqa: F401
