"""Scope-neutral CEN hooks (mmengine root HOOKS): the ℓ1 sparsity penalty on the
exchanging norms' γ and the channel-exchange statistics / figures."""
from .exchange_stats_hook import (ExchangeStatsHook, exchange_stats_record,
                                  load_exchange_records)
from .sparsity_hook import CENSparsityHook, penalized_gammas

__all__ = [
    'CENSparsityHook', 'ExchangeStatsHook', 'exchange_stats_record',
    'load_exchange_records', 'penalized_gammas'
]
