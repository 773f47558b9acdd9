"""One benchmark repeated in separate processes, its rounds pooled.

Within one process CEN and floor steps alternate, so both see the same load; but
the host's state differs from process to process (memory layout, caches, other
jobs), by more than one process's rounds show. Running the same command K times,
one process after the other, and pooling the per-round ratios gives an interval
that covers that too (:func:`~.timing.pooled_ratio_interval`).
"""
import json
import os.path as osp
import subprocess
from typing import List, Sequence

from .timing import pooled_summary


def run_separate_processes(command: Sequence[str], num: int, workdir: str,
                           after_first: Sequence[str] = ()) -> List[dict]:
    """Run ``command`` (a benchmark command line that accepts ``--processes 1 --json
    PATH``; the last occurrence of an option wins) ``num`` times, one process after
    the other, with its output shown as it goes; return the JSON each process wrote
    (``workdir/process_{i}.json``). ``after_first``: arguments added from the second
    process on (e.g. to measure the hooks only once)."""
    results = []
    for index in range(num):
        path = osp.join(workdir, f'process_{index}.json')
        argv = list(command) + ['--processes', '1', '--json', path]
        if index:
            argv += list(after_first)
        print(f'\n# process {index + 1} of {num}\n', flush=True)
        code = subprocess.run(argv).returncode
        if code != 0:
            raise RuntimeError(f'process {index + 1} of {num} failed (exit code {code}; '
                               f'its output is above): {" ".join(argv)}')
        with open(path) as f:
            results.append(json.load(f))
    return results


def _measured_rows(result: dict) -> List[tuple]:
    """``(model, row)`` for every time row of one process's JSON result, in order."""
    return [(model, row) for model in result['results'] for row in model['rows']]


def pool_rows(results: Sequence[dict]) -> List[dict]:
    """The time rows of separate processes' JSON results (same command) pooled: one
    dict per (config, exchange fraction, phase) with ``config``, ``streams``,
    ``sub_frac``, ``frac``, ``phase`` and, per clock (``'wall'``, ``'cpu'``),
    :func:`~.timing.pooled_summary` of the CEN / floor rounds of every process.
    Raises ``ValueError`` if the processes measured different rows."""
    measured = [_measured_rows(result) for result in results]

    def keys(rows):
        return [(model['config'], row['sub_frac'], row['phase']) for model, row in rows]

    for index, rows in enumerate(measured[1:], start=2):
        if keys(rows) != keys(measured[0]):
            raise ValueError(f'process {index} did not measure the rows of process 1 '
                             f'({keys(rows)} against {keys(measured[0])}; different '
                             'commands?)')
    pooled = []
    for same_row in zip(*measured):
        model, row = same_row[0]
        entry = dict(config=model['config'], streams=model['streams'],
                     sub_frac=row['sub_frac'], frac=row['frac'], phase=row['phase'])
        for clock in ('wall', 'cpu'):
            entry[clock] = pooled_summary(
                [(r['times']['cen'][clock], r['times']['floor'][clock])
                 for _, r in same_row])
        pooled.append(entry)
    return pooled
