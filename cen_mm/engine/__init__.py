"""Scope-neutral engine pieces: hooks and runner fixes (mmengine root registries)."""
from . import hooks, runner  # noqa: F401
