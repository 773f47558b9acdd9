"""Peak memory of one step and static memory (parameters, buffers, gradients,
optimizer state), in bytes.

CPU: the PyTorch CPU allocator's bytes in use, integrated over the allocation and free
events that ``torch.profiler`` records with ``profile_memory=True`` (deterministic;
unaffected by the malloc arena's caching, unlike RSS); only tensors are counted. The
events come through :func:`cen_mm.compat.profiler_memory.cpu_memory_events` (a private
torch API, see ``docs/compat.md``). CUDA: ``torch.cuda.max_memory_allocated``.
"""
import contextlib
import os
import re
import sys
import tempfile
from typing import Callable, Optional

import torch
import torch.nn as nn

from cen_mm.compat.profiler_memory import cpu_memory_events
from .timing import synchronize

# Lines the profiler back-end (kineto) writes to stderr on every start/stop, and its
# complaint on a machine without a GPU: noise between the tables, nothing to act on.
KINETO_NOISE = re.compile(r'^(USDT:|ERROR:.*gpuGetDeviceCount)')


@contextlib.contextmanager
def quiet_profiler():
    """Run the block with stderr (file descriptor 2, which kineto writes to from C++)
    captured; afterwards write back every captured line except kineto's noise."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode='w+b') as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            for line in captured.read().decode(errors='replace').splitlines():
                if not KINETO_NOISE.match(line):
                    print(line, file=sys.stderr)


def cpu_step_peak_bytes(step: Callable[[], None]) -> int:
    """Peak bytes in use by the PyTorch CPU allocator during ``step``, above the level
    at its start: the running sum of the allocation (+) and free (-) events, in time
    order."""
    from torch.profiler import ProfilerActivity, profile
    with quiet_profiler(), profile(activities=[ProfilerActivity.CPU],
                                   profile_memory=True) as prof:
        step()
    level = peak = 0
    for _, nbytes in cpu_memory_events(prof):
        level += nbytes
        peak = max(peak, level)
    return peak


def step_peak_bytes(step: Callable[[], None], device: torch.device) -> int:
    """Peak bytes above the level before one call of ``step`` (CPU or CUDA)."""
    if device.type == 'cuda':
        synchronize(device)
        before = torch.cuda.memory_allocated(device)
        torch.cuda.reset_peak_memory_stats(device)
        step()
        synchronize(device)
        return torch.cuda.max_memory_allocated(device) - before
    return cpu_step_peak_bytes(step)


def static_bytes(model: nn.Module, optimizer: Optional[torch.optim.Optimizer],
                 with_grads: bool) -> int:
    """Parameters, buffers, gradients (``with_grads``) and optimizer state (e.g. SGD
    momentum) in bytes; a tensor shared between them counts once."""
    tensors = {id(t): t for t in list(model.parameters()) + list(model.buffers())}
    if with_grads:
        tensors.update({id(p.grad): p.grad for p in model.parameters()
                        if p.grad is not None})
    if optimizer is not None:
        for state in optimizer.state.values():
            for value in state.values():
                if torch.is_tensor(value):
                    tensors[id(value)] = value
    return sum(t.numel() * t.element_size() for t in tensors.values())
