"""Runner-level pieces: safe checkpoint loading, atomic saving, ``CENRunner`` (the
safety defaults) and the CPU-safe DDP wrappers."""
from .atomic_save import atomic_write, atomic_write_text, remove_stale_partials
from .cen_runner import CENRunner, with_safety_hooks
from .checkpoint_loader import (checkpoint_safe_globals, load_local_checkpoint,
                                load_url_checkpoint, safe_global_names,
                                safe_torch_load,
                                unsafe_checkpoint_loading)
from .errors import (CheckpointError, CheckpointMismatchError, CheckpointNotFoundError,
                     ConfigMismatchError, CorruptCheckpointError, MissingDataError,
                     NonFiniteTrainingError, SafetyError, UnsafeCheckpointError,
                     UnwritableOutputError)
from .model_wrappers import (CPU_SAFE_WRAPPERS, CPUSafeDistributedDataParallel,
                             CPUSafeSeparateDistributedDataParallel)

__all__ = [
    'atomic_write', 'atomic_write_text', 'remove_stale_partials', 'CENRunner',
    'with_safety_hooks', 'checkpoint_safe_globals', 'load_local_checkpoint',
    'load_url_checkpoint', 'safe_global_names', 'safe_torch_load',
    'unsafe_checkpoint_loading', 'CheckpointError', 'CheckpointMismatchError',
    'CheckpointNotFoundError', 'ConfigMismatchError', 'CorruptCheckpointError',
    'MissingDataError', 'NonFiniteTrainingError', 'SafetyError', 'UnsafeCheckpointError',
    'UnwritableOutputError', 'CPU_SAFE_WRAPPERS', 'CPUSafeDistributedDataParallel',
    'CPUSafeSeparateDistributedDataParallel'
]
