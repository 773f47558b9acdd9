"""Scope-neutral necks (mmengine root MODELS)."""
from .exchange_neck import ExchangeNeck

__all__ = ['ExchangeNeck']
