"""CEN against its floor, one row per (exchange fraction, phase): step times (wall and
process CPU) and, optionally, step peak and static memory."""
from typing import Iterator, Sequence

import torch

from .memory import static_bytes, step_peak_bytes
from .model_pair import ModelPair, set_exchange_fraction
from .timing import clock_summary, time_alternating


def compare_pair(pair: ModelPair, exchange_fracs: Sequence[float],
                 phases: Sequence[str], warmup: int, iters: int, seed: int,
                 device: torch.device, memory: bool = True) -> Iterator[dict]:
    """Yield one row per exchange fraction and phase (``'train'`` / ``'infer'``), as
    soon as it is measured.

    Row: ``sub_frac`` (asked), ``frac`` (measured exchanged fraction), ``phase``,
    ``times`` (per-round seconds, see ``time_alternating``), ``wall`` / ``cpu``
    (``clock_summary``), and with ``memory`` ``{cen,floor}_step_mem`` (bytes above the
    level before one step) and ``{cen,floor}_static_mem`` (parameters, buffers and, for
    training, gradients and optimizer state).
    """
    for frac in exchange_fracs:
        measured = set_exchange_fraction(pair.cen, frac, seed)
        for phase in phases:
            pair.set_mode(phase)
            make = pair.train_step if phase == 'train' else pair.infer_step
            steps = dict(cen=make('cen'), floor=make('floor'))
            times = time_alternating(steps, warmup, iters, device)
            row = dict(sub_frac=frac, frac=measured, phase=phase, times=times)
            for clock in ('wall', 'cpu'):
                row[clock] = clock_summary(times['cen'][clock], times['floor'][clock])
            if memory:
                for key in ('cen', 'floor'):
                    row[f'{key}_step_mem'] = step_peak_bytes(steps[key], device)
                    row[f'{key}_static_mem'] = static_bytes(
                        pair.models()[key],
                        pair.optimizers[key] if phase == 'train' else None,
                        with_grads=phase == 'train')
            yield row
