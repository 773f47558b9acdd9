"""DDP wrappers that also work for CPU processes (gloo), registered in MODEL_WRAPPERS.

mmengine 0.10.7's runner passes ``device_ids=[LOCAL_RANK]`` to every
DistributedDataParallel-based wrapper; torch rejects ``device_ids`` for CPU modules.
These subclasses drop ``device_ids`` when CUDA is unavailable and are otherwise the
mmengine wrappers unchanged (GPU runs take the same path as with mmengine's types).
``tools/train.py`` / ``tools/test.py`` select them automatically for CPU distributed runs.
"""
import torch
from mmengine.model import (MMDistributedDataParallel,
                            MMSeparateDistributedDataParallel)
from mmengine.registry import MODEL_WRAPPERS


def _cpu_safe(kwargs: dict) -> dict:
    if not torch.cuda.is_available():
        kwargs.pop('device_ids', None)
        kwargs.pop('output_device', None)
    return kwargs


@MODEL_WRAPPERS.register_module()
class CPUSafeDistributedDataParallel(MMDistributedDataParallel):
    """``MMDistributedDataParallel`` that drops ``device_ids`` on CPU-only machines."""

    def __init__(self, module, detect_anomalous_params: bool = False, **kwargs):
        super().__init__(module, detect_anomalous_params=detect_anomalous_params,
                         **_cpu_safe(kwargs))


@MODEL_WRAPPERS.register_module()
class CPUSafeSeparateDistributedDataParallel(MMSeparateDistributedDataParallel):
    """``MMSeparateDistributedDataParallel`` (mmagic GANs) for CPU-only machines too."""

    def __init__(self, module, broadcast_buffers: bool = False,
                 find_unused_parameters: bool = False, **kwargs):
        super().__init__(module, broadcast_buffers=broadcast_buffers,
                         find_unused_parameters=find_unused_parameters,
                         **_cpu_safe(kwargs))


#: mmengine wrapper type -> its CPU-safe counterpart
CPU_SAFE_WRAPPERS = {
    None: 'CPUSafeDistributedDataParallel',
    'MMDistributedDataParallel': 'CPUSafeDistributedDataParallel',
    'MMSeparateDistributedDataParallel': 'CPUSafeSeparateDistributedDataParallel',
}
