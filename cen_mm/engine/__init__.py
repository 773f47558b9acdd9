"""Scope-neutral engine pieces: hooks, optimizer wrappers and runner fixes
(mmengine root registries)."""
from . import hooks, optimizers, runner  # noqa: F401
