"""cen_mm.utils.benchmark.processes and the pooled statistics of .timing: rounds of
separate processes pooled, with an interval that covers how much processes differ."""
import random
import sys

import pytest

from cen_mm.utils.benchmark.processes import pool_rows, run_separate_processes
from cen_mm.utils.benchmark.timing import (median_ratio, median_ratio_interval,
                                           pooled_ratio_interval, pooled_summary)


def process_rounds(level: float, rounds: int, seed: int):
    """(cen, floor) seconds whose per-round ratios scatter by +-0.5 % around level."""
    rng = random.Random(seed)
    floor = [1.0 + rng.random() for _ in range(rounds)]
    cen = [f * level * (1 + rng.uniform(-0.005, 0.005)) for f in floor]
    return cen, floor


def test_pooled_interval_covers_the_spread_between_processes():
    # three processes at 1.00, 1.05 and 1.10, each tight within itself
    processes = [process_rounds(level, 20, seed)
                 for seed, level in enumerate((1.00, 1.05, 1.10))]
    low, high = pooled_ratio_interval(processes)
    # a draw of the processes with two or more of the same one (7 of 27 draws each
    # way) puts the median in that process: the interval spans the processes
    assert 0.99 < low < 1.01 and 1.09 < high < 1.11
    assert pooled_ratio_interval(processes) == (low, high)  # seeded
    # the same rounds taken as one process: an interval about the middle process only
    cen = [t for c, _ in processes for t in c]
    floor = [t for _, f in processes for t in f]
    naive_low, naive_high = median_ratio_interval(cen, floor)
    assert 1.04 < naive_low <= naive_high < 1.06

    summary = pooled_summary(processes)
    assert summary['per_process'] == [median_ratio(c, f) for c, f in processes]
    assert [round(r, 2) for r in summary['per_process']] == [1.00, 1.05, 1.10]
    assert summary['paired'] == median_ratio(cen, floor)
    assert summary['interval'] == (low, high)


def test_pooled_interval_of_one_process_is_the_rounds_bootstrap_width():
    cen, floor = [i / 100 for i in range(101)], [1.0] * 101  # ratios 0.00 .. 1.00
    low, high = pooled_ratio_interval([(cen, floor)])
    assert 0.38 < low < 0.46 and 0.54 < high < 0.62  # as median_ratio_interval's
    assert pooled_ratio_interval([([3.0], [2.0])]) == (1.5, 1.5)
    with pytest.raises(ValueError, match='at least one round'):
        pooled_ratio_interval([([1.0], [1.0]), ([], [])])


def fake_result(config: str, rows):
    """A benchmark JSON result as ``benchmark_cen.py --json`` writes it."""
    return dict(results=[dict(config=config, streams=3, rows=[
        dict(sub_frac=sub_frac, frac=0.066, phase=phase,
             times=dict(cen=dict(wall=cen, cpu=cen), floor=dict(wall=floor, cpu=floor)))
        for sub_frac, phase, cen, floor in rows])])


def test_pool_rows_pools_each_row_over_the_processes():
    results = [
        fake_result('r101', [(0.2, 'train', [1.1, 1.2], [1.0, 1.0]),
                             (0.2, 'infer', [2.0, 2.2], [2.0, 2.0])]),
        fake_result('r101', [(0.2, 'train', [1.3, 1.6], [1.0, 2.0]),
                             (0.2, 'infer', [2.4, 2.6], [2.0, 2.0])]),
    ]
    pooled = pool_rows(results)
    assert [(p['config'], p['streams'], p['phase']) for p in pooled] == [
        ('r101', 3, 'train'), ('r101', 3, 'infer')]
    train = pooled[0]['cpu']
    # per-process medians of (1.1, 1.2) and (1.3, 0.8); pooled: median of all four
    assert train['per_process'] == pytest.approx([1.15, 1.05])
    assert train['paired'] == pytest.approx(1.15)
    assert pooled[1]['wall']['per_process'] == pytest.approx([1.05, 1.25])
    assert pooled[0]['frac'] == 0.066 and pooled[0]['sub_frac'] == 0.2


def test_pool_rows_rejects_processes_that_measured_different_rows():
    results = [fake_result('r101', [(0.2, 'train', [1.1], [1.0])]),
               fake_result('r101', [(0.4, 'train', [1.1], [1.0])])]
    with pytest.raises(ValueError, match='process 2 did not measure'):
        pool_rows(results)
    with pytest.raises(ValueError, match='process 2 did not measure'):
        pool_rows([results[0], dict(results=[])])


def test_run_separate_processes_names_the_failing_process(tmp_path):
    command = [sys.executable, '-c', 'import sys; sys.exit(3)']
    with pytest.raises(RuntimeError, match=r'process 1 of 2 failed \(exit code 3'):
        run_separate_processes(command, 2, str(tmp_path))
