"""cen_mm.utils.progress.track_tasks: results in order with mmengine's progress bar,
serial and in a pool, and no worker outlives an error (which mmengine's
track_parallel_progress leaves running: checked here too, as the reason to keep it)."""
import io
import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from mmengine.utils import track_parallel_progress

from cen_mm.utils.progress import track_tasks
from tests.fixtures.tools import ROOT, tool_env


def square(x):
    return x * x


def fail_first_then_sleep(x):
    if x == 0:
        raise ValueError('bad task 0')
    time.sleep(0.3)
    return x


@pytest.mark.parametrize('nproc', [1, 2])
def test_results_in_order_with_a_progress_bar(nproc):
    out = io.StringIO()
    assert track_tasks(square, list(range(7)), nproc, chunksize=2,
                       file=out) == [x * x for x in range(7)]
    assert '7/7' in out.getvalue()


def test_workers_end_with_an_error():
    with pytest.raises(ValueError, match='bad task 0'):
        track_tasks(fail_first_then_sleep, list(range(20)), 2, file=io.StringIO())
    assert multiprocessing.active_children() == []


def test_still_needed_mmengine_pool_outlives_an_error():
    """Retire check: when mmengine's helper ends its workers on an error, use it."""
    with pytest.raises(ValueError) as excinfo:
        track_parallel_progress(fail_first_then_sleep, list(range(20)), 2,
                                file=io.StringIO())
    tb, pool = excinfo.tb, None
    while tb is not None:  # the helper's pool, from its frame, to end it here
        pool = tb.tb_frame.f_locals.get('pool', pool)
        tb = tb.tb_next
    try:
        assert len(multiprocessing.active_children()) == 2
    finally:
        pool.terminate()
        pool.join()
    assert multiprocessing.active_children() == []


_SLOW_TASKS = textwrap.dedent('''
    import sys, time
    from cen_mm.utils.progress import track_tasks
    def slow(x):
        time.sleep(0.5)
        return x
    try:
        track_tasks(slow, list(range(200)), 2, file=sys.stderr)
    finally:
        print('caller clean-up ran', flush=True)
''')


def _children(pid):
    kids = []
    for entry in os.listdir('/proc'):
        if entry.isdigit():
            try:
                with open(f'/proc/{entry}/stat') as f:
                    if int(f.read().rsplit(')', 1)[1].split()[1]) == pid:
                        kids.append(int(entry))
            except (OSError, IndexError, ValueError):
                pass
    return kids


@pytest.mark.e2e
def test_sigterm_ends_the_workers_and_unwinds_the_caller():
    proc = subprocess.Popen([sys.executable, '-c', _SLOW_TASKS], cwd=ROOT,
                            env=tool_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    workers = []
    deadline = time.time() + 60
    while time.time() < deadline and len(workers) < 2:
        time.sleep(0.2)
        workers = _children(proc.pid)
    assert len(workers) == 2, 'the 2 workers did not start'
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM
    assert 'caller clean-up ran' in out
    time.sleep(0.5)
    assert [w for w in workers if os.path.exists(f'/proc/{w}')] == []
