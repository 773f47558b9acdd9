"""Safe checkpoint loading (``--resume``, ``load_from``, ``tools/test.py CFG CKPT``,
``init_cfg=dict(type='Pretrained')``).

A checkpoint is a pickle: unpickling it fully runs any ``__reduce__`` it contains, so a
downloaded ``.pth`` could execute code. cen_mm's loaders for local paths
(:func:`load_from_local`) and for ``http(s)://`` (:func:`load_from_url`) use
``torch.load(weights_only=True)``
plus an allow-list of exactly the extra globals that mmengine / mmseg / mmagic
checkpoints contain (:func:`checkpoint_safe_globals`), applied with
``torch.serialization.safe_globals`` for the duration of one load only (torch's global
allow-list is never changed). Everything the stack writes loads (and resumes) exactly as
with a full unpickle; anything else raises :class:`UnsafeCheckpointError` naming the file
and the offending global(s), before any of the file's code can run. The allow-list is a
cen_mm feature; registering these loaders in place of mmengine's schemes (mmengine
0.10.7 + torch >= 2.6 cannot resume) is a stack workaround, done by
:func:`cen_mm.compat.register_safe_checkpoint_schemes` when ``cen_mm`` is imported.

Opt-in for a file you vouch for: ``--unsafe-load`` (tools/train.py, tools/test.py) or
``unsafe_load = True`` in the config; the runner then wraps its work in
:func:`unsafe_checkpoint_loading`, which logs a warning for every file loaded that way.
"""
import contextlib
import functools
import os.path as osp
import pickle
import re
import urllib.error
from typing import Iterator, List

import torch
from mmengine.logging import print_log
from mmengine.runner.checkpoint import load_from_http

from .errors import (CheckpointNotFoundError, CorruptCheckpointError,
                     UnsafeCheckpointError)

UNSAFE_LOAD_HINT = ('If you trust this file, rerun with --unsafe-load (tools/train.py, '
                    'tools/test.py) or set `unsafe_load = True` in the config.')

# > 0 while unsafe_checkpoint_loading() is active
_unsafe_depth = 0


def _history_buffer_statistic(owner, name: str):
    """Stands in for ``builtins.getattr`` while loading: a HistoryBuffer pickles its
    statistics methods as ``getattr(HistoryBuffer, 'min')`` etc. Only those lookups are
    allowed (a general ``getattr`` would reach arbitrary attributes)."""
    from mmengine.logging.history_buffer import HistoryBuffer
    if owner is HistoryBuffer and name in ('min', 'max', 'current', 'mean'):
        return getattr(HistoryBuffer, name)
    raise pickle.UnpicklingError(
        f'Unsupported global: GLOBAL builtins.getattr (on {owner!r}, {name!r}) '
        'is not allowed')


@functools.lru_cache(maxsize=None)
def checkpoint_safe_globals() -> tuple:
    """The globals (besides torch's own weights-only set) that checkpoints of the
    pinned stack contain, measured on checkpoints written by mmengine runners of both
    scopes (with and without optimizer, param schedulers, AMP loss scaler, message hub):

    * ``mmengine.logging.history_buffer.HistoryBuffer`` (message hub log scalars) and
      ``builtins.getattr`` restricted to ``getattr(HistoryBuffer, 'min'|'max'|'current'|
      'mean')`` (:func:`_history_buffer_statistic`);
    * numpy array and scalar reconstruction (``numpy.core.multiarray._reconstruct``,
      ``numpy.ndarray``, ``numpy.dtype`` and its concrete classes,
      ``numpy.core.multiarray.scalar``) for the buffers' values and ``meta['seed']``.
    """
    import numpy as np
    from mmengine.logging.history_buffer import HistoryBuffer
    try:
        from numpy._core import multiarray
    except ImportError:  # numpy < 2
        from numpy.core import multiarray
    dtype_classes = {type(np.dtype(code)) for code in
                     ('?', 'b', 'B', 'h', 'H', 'i', 'I', 'l', 'L', 'q', 'Q', 'e',
                      'f', 'd', 'g', 'F', 'D', 'G', 'U', 'S')}
    return (HistoryBuffer, (_history_buffer_statistic, 'builtins.getattr'),
            multiarray._reconstruct, multiarray.scalar, np.ndarray, np.dtype,
            *sorted(dtype_classes, key=lambda t: t.__name__))


def safe_global_names() -> set:
    """``module.qualname`` of every allow-listed global."""
    return {g[1] if isinstance(g, tuple) else f'{g.__module__}.{g.__qualname__}'
            for g in checkpoint_safe_globals()}


@contextlib.contextmanager
def unsafe_checkpoint_loading() -> Iterator[None]:
    """Within this context local checkpoints are fully unpickled (``--unsafe-load``)."""
    global _unsafe_depth
    _unsafe_depth += 1
    try:
        yield
    finally:
        _unsafe_depth -= 1


def unsafe_loading_enabled() -> bool:
    return _unsafe_depth > 0


def _offending_globals(filename: str, err: Exception) -> List[str]:
    """Globals of ``filename`` outside the allow-list, found without unpickling it."""
    allowed = safe_global_names()
    names = []
    try:
        names = [g for g in torch.serialization.get_unsafe_globals_in_checkpoint(filename)
                 if g not in allowed]
    except Exception:  # legacy (non-zip) format: fall back to torch's message
        pass
    if not names:
        names = re.findall(r'Unsupported global: GLOBAL (\S+)', str(err))
    return sorted(set(names))


def _corrupt(filename: str, err: Exception) -> CorruptCheckpointError:
    text = str(err).strip()
    first_line = text.splitlines()[0] if text else type(err).__name__
    return CorruptCheckpointError(
        f'checkpoint {filename} is truncated or not a torch checkpoint ({first_line}). '
        'Re-download it, or use another checkpoint (e.g. an earlier iter_*.pth / '
        'epoch_*.pth of the work dir).')


def safe_torch_load(filename: str, map_location=None,
                    unsafe_hint: str = UNSAFE_LOAD_HINT):
    """``torch.load`` with the allow-list; clear errors naming ``filename``.

    Inside :func:`unsafe_checkpoint_loading` the file is fully unpickled (logged).
    ``unsafe_hint`` ends the message of :class:`UnsafeCheckpointError` (how to opt in).
    """
    if unsafe_loading_enabled():
        print_log(f'UNSAFE LOAD: fully unpickling {filename} (--unsafe-load / '
                  'unsafe_load=True): any code in this file runs now.',
                  logger='current', level=30)
        try:
            return torch.load(filename, map_location=map_location, weights_only=False)
        except Exception as err:  # zip/pickle/struct errors of a damaged file
            raise _corrupt(filename, err) from None
    try:
        with torch.serialization.safe_globals(list(checkpoint_safe_globals())):
            return torch.load(filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        offending = _offending_globals(filename, err)
        if not offending:
            raise _corrupt(filename, err) from None
        raise UnsafeCheckpointError(
            f'refusing to load checkpoint {filename}: it references '
            f'{", ".join(offending)}, which is not on cen_mm\'s allow-list (tensors, '
            'containers, numpy arrays/scalars, mmengine HistoryBuffer); unpickling it '
            f'could run arbitrary code. {unsafe_hint}') from None
    except Exception as err:  # zip/pickle/struct errors of a damaged file
        raise _corrupt(filename, err) from None


# (mmengine logs "Loads checkpoint by {name[10:]} backend": hence the load_from_ names)
def load_from_local(filename: str, map_location=None):
    """Load a local checkpoint safely (see the module docstring)."""
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise CheckpointNotFoundError(
            f'checkpoint file {filename!r} does not exist (check the path)')
    return safe_torch_load(filename, map_location=map_location)


def load_from_url(filename: str, map_location=None):
    """mmengine's download-and-cache loader with the same allow-list and clear errors
    (no network, bad URL)."""
    try:
        with torch.serialization.safe_globals(list(checkpoint_safe_globals())):
            return load_from_http(filename, map_location=map_location)
    except urllib.error.URLError as err:
        raise CheckpointNotFoundError(
            f'cannot download checkpoint {filename}: {getattr(err, "reason", err)}. '
            'Check the URL and the network, or download the file yourself and pass '
            'its local path.') from None
    except pickle.UnpicklingError as err:
        offending = re.findall(r'Unsupported global: GLOBAL (\S+)', str(err))
        raise UnsafeCheckpointError(
            f'refusing to load downloaded checkpoint {filename}: it references '
            f'{", ".join(offending) or "objects outside the allow-list"}. If you trust '
            'it, download it, and load the local file with --unsafe-load.') from None


load_local_checkpoint = load_from_local
load_url_checkpoint = load_from_url
