"""cen_mm.utils.progress.track_tasks: results in order with mmengine's progress bar,
serial and in a pool, and no worker outlives an error (which mmengine's
track_parallel_progress leaves running: checked here too, as the reason to keep it)."""
import io
import multiprocessing
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from mmengine.utils import track_parallel_progress

from cen_mm.utils.progress import track_tasks
from tests.fixtures.processes import still_running, wait_for_spawned_children
from tests.fixtures.progress_tasks import fail_first_then_sleep, square
from tests.fixtures.tools import ROOT, tool_env


@pytest.mark.parametrize('nproc', [1, pytest.param(2, marks=pytest.mark.e2e)])
def test_results_in_order_with_a_progress_bar(nproc):
    out = io.StringIO()
    assert track_tasks(square, list(range(7)), nproc, chunksize=2,
                       file=out) == [x * x for x in range(7)]
    assert '7/7' in out.getvalue()


@pytest.mark.e2e  # spawns 2 interpreters: seconds
def test_workers_end_with_an_error():
    with pytest.raises(ValueError, match='bad task 0'):
        track_tasks(fail_first_then_sleep, list(range(20)), 2, file=io.StringIO())
    assert multiprocessing.active_children() == []


_MMENGINE_POOL_CHECK = textwrap.dedent('''
    import io, multiprocessing
    from mmengine.utils import track_parallel_progress
    from tests.fixtures.progress_tasks import fail_first_then_sleep
    if __name__ == '__main__':
        try:
            track_parallel_progress(fail_first_then_sleep, list(range(20)), 2,
                                    file=io.StringIO())
        except ValueError as exc:
            tb, pool = exc.__traceback__, None
            while tb is not None:  # the helper's pool, from its frame
                pool = tb.tb_frame.f_locals.get('pool', pool)
                tb = tb.tb_next
            print('alive after the error:', len(multiprocessing.active_children()))
            pool.terminate()
            pool.join()
''')


def test_still_needed_mmengine_pool_outlives_an_error():
    """Retire check: when mmengine's helper ends its workers on an error, use it.
    Run in a fresh interpreter: mmengine's pool forks, and forking this (threaded)
    test process can hang a worker."""
    out = subprocess.run([sys.executable, '-c', _MMENGINE_POOL_CHECK], cwd=ROOT,
                         env=tool_env(), capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert 'alive after the error: 2' in out.stdout, out.stdout + out.stderr[-2000:]


_SLOW_TASKS = textwrap.dedent('''
    import sys
    from cen_mm.utils.progress import track_tasks
    from tests.fixtures.progress_tasks import slow
    if __name__ == '__main__':
        try:
            track_tasks(slow, list(range(200)), 2, file=sys.stderr)
        finally:
            print('caller clean-up ran', flush=True)
''')


@pytest.mark.e2e
def test_sigterm_ends_the_workers_and_unwinds_the_caller():
    proc = subprocess.Popen([sys.executable, '-c', _SLOW_TASKS], cwd=ROOT,
                            env=tool_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    workers = wait_for_spawned_children(proc.pid, 2)
    assert len(workers) == 2, 'the 2 workers did not start'
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM
    assert 'caller clean-up ran' in out
    time.sleep(0.5)
    assert still_running(workers) == []


@pytest.mark.e2e  # a subprocess
def test_function_of_an_interactive_main_is_refused():
    """Spawned workers cannot import a function of ``python -c``: a clear error, not a
    pool that replaces its failing workers for ever."""
    code = textwrap.dedent('''
        import io
        from cen_mm.utils.progress import track_tasks
        def task(x):
            return x
        try:
            track_tasks(task, [1, 2], 2, file=io.StringIO())
        except ValueError as exc:
            print('refused:', exc)
    ''')
    out = subprocess.run([sys.executable, '-c', code], cwd=ROOT, env=tool_env(),
                         capture_output=True, text=True, timeout=120)
    assert 'refused: track_tasks:' in out.stdout, out.stdout + out.stderr[-2000:]
    assert 'interactive __main__' in out.stdout
