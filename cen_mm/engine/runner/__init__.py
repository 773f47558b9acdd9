"""Runner-level fixes for the pinned stack (torch 2.14 + mmengine 0.10.7)."""
from .checkpoint_loader import load_local_checkpoint
from .model_wrappers import (CPU_SAFE_WRAPPERS, CPUSafeDistributedDataParallel,
                             CPUSafeSeparateDistributedDataParallel)

__all__ = [
    'load_local_checkpoint', 'CPU_SAFE_WRAPPERS', 'CPUSafeDistributedDataParallel',
    'CPUSafeSeparateDistributedDataParallel'
]
