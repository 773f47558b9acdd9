"""End a CPU (gloo) distributed worker without gloo's C++ teardown (torch 2.14).

Problem: at the end of a process that used a gloo process group, gloo's C++ teardown
occasionally aborts ("terminate called without an active exception", exit code -6),
with and without ``destroy_process_group``, after all work is done and written;
torchrun then reports the run as failed.

Workaround: :func:`exit_skipping_gloo_teardown` flushes and closes every log handler and
the standard streams, then ends the process with ``os._exit(0)`` (no interpreter or C++
static teardown). Only used for the gloo group cen_mm created itself
(``cen_mm.utils.launch.teardown_distributed``); nccl groups are destroyed normally.

Retire when: a gloo-based ``tools/dist_train.sh`` run exits 0 reliably with a normal
``destroy_process_group()`` and interpreter exit on the pinned torch.
"""
import logging
import os
import sys


def exit_skipping_gloo_teardown() -> None:
    """Flush the logs and streams, then ``os._exit(0)`` (does not return)."""
    logging.shutdown()  # flush and close every log handler (mmengine's log file)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
