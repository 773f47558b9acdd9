"""cen_mm.compat.profiler_memory: the CPU allocator events that torch's profiler
records, through its private kineto result object, in time order with signed sizes."""
import torch
from torch.profiler import ProfilerActivity, profile

from cen_mm.compat.profiler_memory import cpu_memory_events


def test_cpu_memory_events_are_signed_sizes_in_time_order():
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        a = torch.empty(1000, dtype=torch.float32)  # +4000
        b = torch.empty(250, dtype=torch.float64)  # +2000
        del a  # -4000
        del b  # -2000
    events = cpu_memory_events(prof)
    assert [nbytes for _, nbytes in events] == [4000, 2000, -4000, -2000]
    starts = [start for start, _ in events]
    assert starts == sorted(starts)


def test_still_needed_public_events_net_out_a_peak_inside_an_op():
    """Retire check: the public ``prof.events()`` report each op's *net* memory, so a
    temporary allocated and freed inside one op (here a ``record_function`` block) is
    invisible there, while the allocator events show its 4000 bytes."""
    from torch.profiler import record_function
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        with record_function('step'):
            x = torch.empty(1000)
            del x
    step = [e for e in prof.events() if e.name == 'step']
    assert len(step) == 1 and step[0].cpu_memory_usage == 0
    assert [nbytes for _, nbytes in cpu_memory_events(prof)] == [4000, -4000]
