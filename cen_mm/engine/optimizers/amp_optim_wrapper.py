"""``--amp`` on machines without a GPU.

mmengine 0.10.7's ``AmpOptimWrapper`` asserts that a GPU/NPU/MLU is present and builds
``torch.cuda.amp.GradScaler``. ``CPUAmpOptimWrapper`` is the same wrapper (its backward,
update_params, state dict and ``optim_context`` are inherited unchanged) with a
device-generic ``torch.amp.GradScaler`` and bfloat16 autocast by default on CPU.
``tools/train.py --amp`` picks it when CUDA is unavailable, ``AmpOptimWrapper`` otherwise.
"""
from typing import Union

import torch
from mmengine.optim import AmpOptimWrapper, OptimWrapper
from mmengine.registry import OPTIM_WRAPPERS


@OPTIM_WRAPPERS.register_module()
class CPUAmpOptimWrapper(AmpOptimWrapper):
    """AmpOptimWrapper that also runs on CPU (autocast dtype default: bfloat16)."""

    def __init__(self,
                 loss_scale: Union[str, float, dict] = 'dynamic',
                 dtype: Union[str, torch.dtype, None] = None,
                 device: str = 'cpu',
                 **kwargs):
        # Skip AmpOptimWrapper.__init__ (GPU assertion, CUDA-only scaler).
        OptimWrapper.__init__(self, **kwargs)
        self._scale_update_param = None
        if loss_scale == 'dynamic':
            self.loss_scaler = torch.amp.GradScaler(device)
        elif isinstance(loss_scale, float):
            self._scale_update_param = loss_scale
            self.loss_scaler = torch.amp.GradScaler(device, init_scale=loss_scale)
        elif isinstance(loss_scale, dict):
            self.loss_scaler = torch.amp.GradScaler(device, **loss_scale)
        else:
            raise TypeError('loss_scale must be "dynamic", a float or a dict, got '
                            f'{loss_scale!r}')
        if dtype is None:
            dtype = torch.bfloat16 if device == 'cpu' else None
        if isinstance(dtype, str):
            if dtype not in self.valid_dtypes:
                raise ValueError(f'dtype must be one of {self.valid_dtypes}, got '
                                 f'{dtype!r}')
            dtype = getattr(torch, dtype)
        self.cast_dtype = dtype
