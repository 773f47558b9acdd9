"""Step timing: CEN and floor steps alternate in one process so that both see the same
load on a shared machine; the per-round ratio is the robust statistic."""
import statistics
import time
from typing import Callable, Dict, List, Sequence, Tuple

import torch


def synchronize(device: torch.device) -> None:
    """Wait for the device's queued work (CUDA); nothing to wait for on the CPU."""
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def time_alternating(steps: Dict[str, Callable[[], None]], warmup: int, iters: int,
                     device: torch.device) -> Dict[str, Dict[str, List[float]]]:
    """Wall-clock and process CPU seconds per call of every step, over ``iters``
    rounds after ``warmup``: ``{name: {'wall': [...], 'cpu': [...]}}``.

    Every round calls each step once; the order is reversed every other round, so
    that neither model always runs right after the other one.
    """
    names = list(steps)
    times = {name: dict(wall=[], cpu=[]) for name in names}
    for round_idx in range(warmup + iters):
        order = names if round_idx % 2 == 0 else names[::-1]
        for name in order:
            synchronize(device)
            wall, cpu = time.perf_counter(), time.process_time()
            steps[name]()
            synchronize(device)
            if round_idx >= warmup:
                times[name]['wall'].append(time.perf_counter() - wall)
                times[name]['cpu'].append(time.process_time() - cpu)
    return times


def median_seconds(fn: Callable[[], None], reps: int, device: torch.device) -> float:
    """Median wall-clock seconds of ``reps`` calls of ``fn``."""
    values = []
    for _ in range(reps):
        synchronize(device)
        start = time.perf_counter()
        fn()
        synchronize(device)
        values.append(time.perf_counter() - start)
    return statistics.median(values)


def median_ratio(a: Sequence[float], b: Sequence[float]) -> float:
    """Median of the per-round ratios a[i] / b[i]."""
    return statistics.median(x / y for x, y in zip(a, b))


def ratio_quartiles(a: Sequence[float], b: Sequence[float]) -> Tuple[float, float]:
    """First and third quartile of the per-round ratios (their spread is the noise)."""
    ratios = [x / y for x, y in zip(a, b)]
    if len(ratios) < 2:
        return ratios[0], ratios[0]
    q = statistics.quantiles(ratios, n=4, method='inclusive')
    return q[0], q[2]


def clock_summary(cen: Sequence[float], floor: Sequence[float]) -> dict:
    """Median seconds of each, and the median and quartiles of the per-round ratios
    CEN / floor: ``dict(cen, floor, paired, quartiles)``."""
    return dict(cen=statistics.median(cen), floor=statistics.median(floor),
                paired=median_ratio(cen, floor), quartiles=ratio_quartiles(cen, floor))
