"""Scope-neutral CEN hooks (mmengine root HOOKS): the ℓ1 sparsity penalty on the
exchanging norms' γ, the channel-exchange statistics / figures, the safety hooks
(NaN/Inf guard, atomic checkpointing) and dropping the norms' kept values around
evaluation (``KeptValuesHook``)."""
from .class_count_check_hook import ClassCountCheckHook
from .exchange_stats_hook import (ExchangeStatsHook, exchange_stats_record,
                                  load_exchange_records)
from .kept_values_hook import KeptValuesHook
from .non_finite_guard_hook import (NonFiniteGuardHook, non_finite_log_vars,
                                    non_finite_tensors)
from .safe_checkpoint_hook import SafeCheckpointHook
from .sparsity_hook import CENSparsityHook, penalized_gammas

__all__ = [
    'CENSparsityHook', 'ExchangeStatsHook', 'exchange_stats_record',
    'load_exchange_records', 'penalized_gammas', 'NonFiniteGuardHook',
    'non_finite_log_vars', 'non_finite_tensors', 'SafeCheckpointHook',
    'ClassCountCheckHook', 'KeptValuesHook'
]
