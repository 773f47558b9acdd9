"""Run a function over tasks with mmengine's progress bar, serially or in a process
pool whose workers never outlive the call.

Serial runs are mmengine's ``track_progress``. For ``nproc > 1`` mmengine's
``track_parallel_progress`` would do, except that it closes its pool only after the
last result: when a task raises, or the caller is interrupted (Ctrl-C, or SIGTERM
turned into an exception as the dataset converters do), its workers keep running the
queued tasks (measured with mmengine 0.10.7: 2 of 2 workers still alive 1 s after a
task's error) and may write into a temporary output that the caller is removing.
:func:`track_tasks` therefore keeps its own ``multiprocessing.Pool``, terminated and
joined on any exception, and reports progress with mmengine's ``ProgressBar``. While
it runs in the main thread with SIGTERM at its default action, SIGTERM raises
``SystemExit(143)``, so that a killed run (job scheduler, ``kill``) ends its workers
and unwinds the caller's clean-up instead of leaving orphans.

Workers are started with the ``'spawn'`` method (a fresh interpreter each), never
forked: forking a process that already runs threads (torch's and OpenCV's thread
pools, a test runner, a notebook) can leave a lock held in the child, which then
hangs for ever (seen in the test suite: a forked worker stuck in a futex and the
parent in ``pool.join()``). ``func`` must therefore be importable (a module-level
function), as the converters' are.
"""
import contextlib
import multiprocessing
import signal
import sys
import threading
from typing import Callable, List, Sequence

from mmengine.utils import ProgressBar, track_progress


def _default_sigterm() -> None:
    """Pool workers: plain SIGTERM behaviour (the parent may turn it into an
    exception; a worker just ends)."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _raise_on_sigterm(signum, frame):
    raise SystemExit(128 + signum)


@contextlib.contextmanager
def sigterm_as_exit():
    """SIGTERM -> ``SystemExit(143)`` in the block, if we are in the main thread and
    nobody has installed a SIGTERM handler of their own: ``finally`` blocks and
    ``except BaseException`` clean-ups run when a job is killed (command lines)."""
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL):
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def track_tasks(func: Callable, tasks: Sequence, nproc: int = 1,
                chunksize: int = 1, file=sys.stdout) -> List:
    """``[func(t) for t in tasks]`` in order, with a progress bar on ``file``.

    ``nproc > 1`` runs the tasks in that many worker processes (``func`` and the tasks
    must be picklable). On any exception in a task or in the caller (including
    ``KeyboardInterrupt`` / ``SystemExit``, and SIGTERM, see the module docstring) the
    workers are terminated and joined before the exception propagates.
    """
    if nproc <= 1:
        return track_progress(func, tasks, file=file)
    main = sys.modules.get('__main__')
    if (getattr(func, '__module__', None) == '__main__'
            and not getattr(main, '__file__', None)):
        # a spawned worker could not import it, and the pool would replace the
        # failing workers for ever
        raise ValueError(f'track_tasks: {func!r} is defined in an interactive '
                         '__main__ (python -c, a notebook), which spawned workers '
                         'cannot import; define it in a module, or use nproc=1')
    results = []
    bar = ProgressBar(len(tasks), file=file)
    with sigterm_as_exit():
        pool = multiprocessing.get_context('spawn').Pool(
            nproc, initializer=_default_sigterm)
        try:
            for result in pool.imap(func, tasks, chunksize=chunksize):
                results.append(result)
                bar.update()
        except BaseException:
            pool.terminate()
            pool.join()
            raise
        finally:
            file.write('\n')
        pool.close()
        pool.join()
    return results
