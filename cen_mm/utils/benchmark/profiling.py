"""Profiled self time per op of CEN and floor steps, split into convolutions/matmuls
(the same work in both models) and everything else (norms, exchange, copies, losses,
optimizer, ...: where CEN's overhead lives).

On a noisy machine the convolutions' time varies by several percent from step to step
and hides a small overhead in the wall-clock ratio; the other ops' self time does not.
"""
import collections
import re
from typing import Callable, Dict, Tuple

import torch

from .memory import quiet_profiler

# op names (``key_averages`` keys) that do the convolution / matmul work
CONV_OP = re.compile(r'conv|addmm|bmm|matmul|linear|(^|::)mm$')


def self_time_attribute(device: torch.device) -> str:
    """The ``FunctionEventAvg`` attribute of an op's own time on ``device``."""
    return 'self_device_time_total' if device.type == 'cuda' else 'self_cpu_time_total'


def profile_self_times(steps: Dict[str, Callable[[], None]], num_steps: int,
                       device: torch.device) -> Dict[str, collections.Counter]:
    """Mean self time (ms) per op and per step, ``{name: Counter(op -> ms)}``.

    Every step is run once unprofiled (warm), then ``num_steps`` profiled rounds
    alternate between the steps."""
    from torch.profiler import ProfilerActivity, profile
    activities = [ProfilerActivity.CPU]
    if device.type == 'cuda':
        activities.append(ProfilerActivity.CUDA)
    attr = self_time_attribute(device)
    totals = {name: collections.Counter() for name in steps}
    for step in steps.values():
        step()
    for _ in range(num_steps):
        for name, step in steps.items():
            with quiet_profiler(), profile(activities=activities) as prof:
                step()
            for event in prof.key_averages():
                totals[name][event.key] += getattr(event, attr) / 1e3 / num_steps
    return totals


def split_conv_time(per_op: Dict[str, float]) -> Tuple[float, float]:
    """(conv/matmul time, time of all other ops) of one ``profile_self_times`` entry."""
    conv = sum(v for k, v in per_op.items() if CONV_OP.search(k))
    return conv, sum(per_op.values()) - conv


def overhead_estimate(cen: Dict[str, float], floor: Dict[str, float]) -> float:
    """(CEN other ops - floor other ops) / floor total: the ratio - 1 that CEN would
    have if its convolutions took exactly as long as the floor's."""
    (_, cen_other), (floor_conv, floor_other) = split_conv_time(cen), split_conv_time(
        floor)
    return (cen_other - floor_other) / (floor_conv + floor_other)
