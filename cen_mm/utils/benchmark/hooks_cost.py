"""Per-iteration cost of ``CENSparsityHook`` (its optimizer pre-hook and its logging
statistics) and of ``ExchangeStatsHook`` (one record, amortised over its interval), on
the CEN model of a :class:`~.model_pair.ModelPair`."""
import statistics
import time

import torch

from .timing import median_seconds, synchronize


def measure_hook_costs(pair, exchange_frac: float, reps: int, seed: int,
                       device: torch.device) -> dict:
    """Seconds per call of each hook's work, with ``exchange_frac`` of every stream's
    sub-part exchanged.

    Returns ``dict(num_layers, stats_interval, penalty, stats, record,
    step_with_hook=[...], step_without_hook=[...])``: the pre-hook's subgradient
    (``penalty``), its statistics (``stats``) and one ``ExchangeStatsHook`` record
    (``record``), median seconds; and ``optimizer.step()`` seconds with and without
    the pre-hook attached (alternating).
    """
    from mmengine.optim import OptimWrapper

    from cen_mm.engine.hooks import CENSparsityHook, ExchangeStatsHook
    from cen_mm.engine.hooks.exchange_stats_hook import exchange_stats_record
    from .model_pair import set_exchange_fraction

    set_exchange_fraction(pair.cen, exchange_frac, seed)
    pair.set_mode('train')
    optimizer = pair.optimizers['cen']
    wrapper = OptimWrapper(optimizer)
    hook = CENSparsityHook(lambda_=5e-3)
    stats_interval = ExchangeStatsHook().interval
    # gradients of a real step, so the optimizer step does its real work
    optimizer.zero_grad(set_to_none=True)
    pair.loss('cen').backward()

    with_hook, without_hook = [], []
    for i in range(2 * reps):  # optimizer.step with / without the pre-hook, alternating
        attached = i % 2 == 0
        if attached:
            hook.attach(pair.cen, wrapper)
        else:
            hook.detach()
        synchronize(device)
        start = time.perf_counter()
        optimizer.step()
        synchronize(device)
        (with_hook if attached else without_hook).append(time.perf_counter() - start)
    hook.detach()
    hook.attach(pair.cen, wrapper)
    penalty = median_seconds(lambda: hook.add_penalty_grad(hook.entries), reps, device)
    stats = median_seconds(hook.penalty_stats, reps, device)
    hook.detach()
    record = median_seconds(lambda: exchange_stats_record(pair.cen, 4), reps, device)
    optimizer.zero_grad(set_to_none=True)
    return dict(num_layers=len({e.layer for e in hook.entries}),
                stats_interval=stats_interval, penalty=penalty, stats=stats,
                record=record, step_with_hook=with_hook,
                step_without_hook=without_hook,
                step_difference=statistics.median(with_hook)
                - statistics.median(without_hook))
