"""Step timing: CEN and floor steps alternate in one process so that both see the same
load on a shared machine; the per-round ratio is the robust statistic."""
import random
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


def paired_ratios(a: Sequence[float], b: Sequence[float]) -> List[float]:
    """The per-round ratios a[i] / b[i]."""
    return [x / y for x, y in zip(a, b)]


def median_ratio(a: Sequence[float], b: Sequence[float]) -> float:
    """Median of the per-round ratios a[i] / b[i]."""
    return statistics.median(paired_ratios(a, b))


def ratio_quartiles(a: Sequence[float], b: Sequence[float]) -> Tuple[float, float]:
    """First and third quartile of the per-round ratios (their spread is the noise)."""
    ratios = paired_ratios(a, b)
    if len(ratios) < 2:
        return ratios[0], ratios[0]
    q = statistics.quantiles(ratios, n=4, method='inclusive')
    return q[0], q[2]


def median_ratio_interval(a: Sequence[float], b: Sequence[float], level: float = 0.95,
                          resamples: int = 2000, seed: int = 0) -> Tuple[float, float]:
    """Bootstrap percentile interval (``level``, e.g. 95 %) of the median of the
    per-round ratios a[i] / b[i]: how precisely the rounds pin the median down (the
    quartiles show the spread of single rounds, not that). Seeded: the same rounds give
    the same interval. One round gives (r, r)."""
    ratios = paired_ratios(a, b)
    if len(ratios) < 2:
        return ratios[0], ratios[0]
    rng = random.Random(seed)
    return _percentile_interval([statistics.median(rng.choices(ratios, k=len(ratios)))
                                 for _ in range(resamples)], level)


def _percentile_interval(medians: List[float], level: float) -> Tuple[float, float]:
    """The central ``level`` range of the bootstrap ``medians``."""
    medians = sorted(medians)
    tail = (1 - level) / 2
    return (medians[int(tail * len(medians))],
            medians[min(len(medians) - 1, int((1 - tail) * len(medians)))])


def pooled_ratio_interval(processes: Sequence[Tuple[Sequence[float], Sequence[float]]],
                          level: float = 0.95, resamples: int = 2000,
                          seed: int = 0) -> Tuple[float, float]:
    """Bootstrap percentile interval (``level``) of the median of the per-round
    ratios CEN / floor pooled over separate processes, ``processes`` = one
    ``(cen, floor)`` pair of per-round seconds per process. Each resample draws the
    processes with replacement and then, within each drawn process, its rounds, so
    that the interval also covers how much processes differ (the host's state from
    run to run), which one process's :func:`median_ratio_interval` does not.
    Seeded; a single round in all gives (r, r)."""
    ratios = [paired_ratios(cen, floor) for cen, floor in processes]
    if not ratios or not all(ratios):
        raise ValueError('pooled_ratio_interval needs at least one round per process')
    if sum(map(len, ratios)) < 2:
        return ratios[0][0], ratios[0][0]
    rng = random.Random(seed)
    medians = []
    for _ in range(resamples):
        drawn = []
        for rounds in rng.choices(ratios, k=len(ratios)):
            drawn += rng.choices(rounds, k=len(rounds))
        medians.append(statistics.median(drawn))
    return _percentile_interval(medians, level)


def pooled_summary(processes: Sequence[Tuple[Sequence[float], Sequence[float]]]
                   ) -> dict:
    """The per-round ratios of separate processes (``(cen, floor)`` seconds per
    process) pooled: ``dict(per_process, paired, quartiles, interval)`` with each
    process's median ratio, the median and quartiles of all rounds' ratios, and
    :func:`pooled_ratio_interval`."""
    cen = [t for c, _ in processes for t in c]
    floor = [t for _, f in processes for t in f]
    return dict(per_process=[median_ratio(c, f) for c, f in processes],
                paired=median_ratio(cen, floor), quartiles=ratio_quartiles(cen, floor),
                interval=pooled_ratio_interval(processes))


def clock_summary(cen: Sequence[float], floor: Sequence[float]) -> dict:
    """Median seconds of each, and the median, quartiles and 95 % bootstrap interval of
    the median of the per-round ratios CEN / floor:
    ``dict(cen, floor, paired, quartiles, interval)``."""
    return dict(cen=statistics.median(cen), floor=statistics.median(floor),
                paired=median_ratio(cen, floor), quartiles=ratio_quartiles(cen, floor),
                interval=median_ratio_interval(cen, floor))
