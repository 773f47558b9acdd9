"""cen_mm.utils.benchmark.timing / .memory: alternating order, ratio statistics, the
CPU peak meter counts allocator bytes exactly, static bytes count shared tensors
once, kineto's stderr noise is dropped."""
import os

import pytest
import torch
import torch.nn as nn

from cen_mm.utils.benchmark.memory import (cpu_step_peak_bytes, quiet_profiler,
                                           static_bytes, step_peak_bytes)
from cen_mm.utils.benchmark.timing import (clock_summary, median_ratio,
                                           median_ratio_interval, ratio_quartiles,
                                           time_alternating)

CPU = torch.device('cpu')


def test_time_alternating_reverses_the_order_every_other_round():
    calls = []
    steps = dict(a=lambda: calls.append('a'), b=lambda: calls.append('b'))
    times = time_alternating(steps, warmup=1, iters=3, device=CPU)
    assert calls == ['a', 'b', 'b', 'a', 'a', 'b', 'b', 'a']
    for name in 'ab':  # warm-up not recorded
        assert len(times[name]['wall']) == 3 and len(times[name]['cpu']) == 3
        assert all(t >= 0 for t in times[name]['wall'])


def test_ratio_statistics():
    cen, floor = [2.0, 3.0, 12.0, 5.0], [1.0, 2.0, 4.0, 5.0]  # ratios 2, 1.5, 3, 1
    assert median_ratio(cen, floor) == pytest.approx(1.75)
    assert ratio_quartiles(cen, floor) == pytest.approx((1.375, 2.25))
    assert ratio_quartiles([3.0], [2.0]) == (1.5, 1.5)
    summary = clock_summary(cen, floor)
    assert summary['cen'] == pytest.approx(4.0) and summary['floor'] == pytest.approx(3)
    assert summary['paired'] == pytest.approx(1.75)


def test_cpu_peak_meter_counts_allocator_bytes():
    def step():
        a = torch.empty(1000, dtype=torch.float32)  # 4000 B
        b = torch.empty(250, dtype=torch.float64)  # 2000 B, peak 6000 B
        del a, b
        c = torch.empty(500, dtype=torch.float32)  # 2000 B
        del c

    assert cpu_step_peak_bytes(step) == 6000
    assert step_peak_bytes(step, CPU) == 6000


def test_static_bytes_counts_params_buffers_grads_and_momentum_once():
    model = nn.Sequential(nn.Linear(10, 5), nn.BatchNorm1d(5))
    # params: 10*5 + 5 + 5 + 5 = 65 floats; buffers: 5 + 5 floats + 1 int64
    params, buffers = 65 * 4, 10 * 4 + 8
    assert static_bytes(model, None, with_grads=False) == params + buffers
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(torch.randn(4, 10)).sum().backward()
    optimizer.step()  # momentum buffers: one per parameter
    assert static_bytes(model, optimizer, with_grads=True) == 3 * params + buffers
    assert static_bytes(model, None, with_grads=True) == 2 * params + buffers


def test_quiet_profiler_drops_only_kineto_noise(capfd):
    with quiet_profiler():
        os.write(2, b'USDT:2026-11-22 1:1 SyncActivityProfilerHandler.cpp:39] start\n')
        os.write(2, b'ERROR:2026-11-22 DeviceProperties.cpp:56] gpuGetDeviceCount '
                 b'failed with code 35\n')
        os.write(2, b'a real warning\n')
    err = capfd.readouterr().err
    assert err.splitlines() == ['a real warning']


def test_median_ratio_interval_pins_the_median():
    # ratios 0.00, 0.01, ..., 1.00 (floor 1): the median is 0.5 and the bootstrap
    # standard error of a uniform sample's median is 1 / (2 * sqrt(101)) ~ 0.05, so the
    # 95 % interval is about 0.5 -+ 0.1
    cen, floor = [i / 100 for i in range(101)], [1.0] * 101
    low, high = median_ratio_interval(cen, floor)
    assert 0.38 < low < 0.46 and 0.54 < high < 0.62
    assert median_ratio_interval(cen, floor) == (low, high)  # seeded
    # four times the rounds, half the width
    wide = high - low
    low4, high4 = median_ratio_interval(cen * 4, floor * 4)
    assert 0.35 * wide < high4 - low4 < 0.65 * wide
    # identical ratios and a single round: a point
    assert median_ratio_interval([2.0, 4.0, 6.0], [1.0, 2.0, 3.0]) == (2.0, 2.0)
    assert median_ratio_interval([3.0], [2.0]) == (1.5, 1.5)
    assert clock_summary(cen, floor)['interval'] == (low, high)
