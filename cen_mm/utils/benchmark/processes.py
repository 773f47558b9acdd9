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


def pool_rows(results: Sequence[dict]) -> List[dict]:
    """The time rows of separate processes' JSON results (same command) pooled: one
    dict per (config, exchange fraction, phase) with ``config``, ``streams``,
    ``sub_frac``, ``frac``, ``phase`` and, per clock (``'wall'``, ``'cpu'``),
    :func:`~.timing.pooled_summary` of the CEN / floor rounds of every process.
    Raises ``ValueError`` if the processes measured different rows."""
    if not results:
        return []
    first = results[0]['results']
    pooled = []
    for c, model in enumerate(first):
        for r, row in enumerate(model['rows']):
            key = (model['config'], row['sub_frac'], row['phase'])
            rows = []
            for p, result in enumerate(results):
                try:
                    other_model = result['results'][c]
                    other = other_model['rows'][r]
                except (IndexError, KeyError):
                    other_model, other = {}, {}
                if (other_model.get('config'), other.get('sub_frac'),
                        other.get('phase')) != key:
                    raise ValueError(f'process {p + 1} did not measure {key} as row '
                                     f'{r + 1} of model {c + 1} (different commands?)')
                rows.append(other)
            entry = dict(config=model['config'], streams=model['streams'],
                         sub_frac=row['sub_frac'], frac=row['frac'], phase=row['phase'])
            for clock in ('wall', 'cpu'):
                entry[clock] = pooled_summary(
                    [(x['times']['cen'][clock], x['times']['floor'][clock])
                     for x in rows])
            pooled.append(entry)
    return pooled
