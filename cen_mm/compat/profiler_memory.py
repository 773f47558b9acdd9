"""CPU allocator events of a ``torch.profiler`` run (for the benchmark's peak memory).

Problem: ``torch.profiler.profile(profile_memory=True)`` records every allocation and
free of the PyTorch CPU allocator, but torch 2.14 exposes them, in time order and with
their signed sizes, only through the private kineto result object
(``prof.profiler.kineto_results.events()``: ``name() == '[memory]'``, ``nbytes()``,
``start_ns()``, ``device_type()``). The public views do not serve: ``key_averages()``
sums per op (no peak), and ``export_memory_timeline`` categorises CUDA memory only.

Workaround: read the private result object here, in one place, and hand the caller
plain ``(start_ns, nbytes)`` pairs. ``cen_mm.utils.benchmark.memory`` turns them into a
step's peak.

Retire when: torch's public profiler API returns the allocator's events (or a CPU
peak) in time order; then :func:`cpu_memory_events` reads that instead.
"""
from typing import List, Tuple


def cpu_memory_events(prof) -> List[Tuple[int, int]]:
    """``(start_ns, nbytes)`` of every CPU allocator event that the finished profiler
    ``prof`` recorded (``nbytes`` > 0: allocation, < 0: free), in time order."""
    events = [(e.start_ns(), e.nbytes())
              for e in prof.profiler.kineto_results.events()
              if e.name() == '[memory]' and str(e.device_type()) == 'DeviceType.CPU']
    events.sort(key=lambda pair: pair[0])
    return events
