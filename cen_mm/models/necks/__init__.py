"""Scope-neutral necks (mmengine root MODELS)."""
from .exchange_neck import ExchangeNeck
from .select_stream import SelectStream

__all__ = ['ExchangeNeck', 'SelectStream']
