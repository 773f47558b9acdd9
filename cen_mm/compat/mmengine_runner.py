"""Read the load/resume request of an mmengine 0.10.7 ``Runner``.

Problem: with ``resume=True`` and no ``load_from``, ``Runner.load_or_resume`` looks for
the work dir's latest checkpoint and, if there is none, silently trains from scratch;
``CENRunner`` refuses instead. To know before calling ``super().load_or_resume()``
whether it is about to auto-resume, it reads the private ``_has_loaded``, ``_resume``
and ``_load_from`` (the runner has no public accessors for them).

Retire when: mmengine exposes these settings (or fails on a missing auto-resume
checkpoint itself).
"""
from mmengine.runner import Runner


def pending_auto_resume(runner: Runner) -> bool:
    """True if ``runner.load_or_resume()`` would resume from the latest checkpoint of
    its work dir (``resume=True``, no ``load_from``, nothing loaded yet)."""
    return (not runner._has_loaded and bool(runner._resume)
            and runner._load_from is None)
