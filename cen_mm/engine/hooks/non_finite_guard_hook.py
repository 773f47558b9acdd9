"""``NonFiniteGuardHook``: stop training when the loss or the weights become NaN/Inf.

Without it a diverged run (e.g. a too-large lr) trains on with ``nan`` losses, exits
with status 0 and lets ``CheckpointHook(max_keep_ckpts=k)`` rotate the finite
checkpoints away. The hook runs after the logger (the ``nan`` line is logged) and before
the checkpoint hook (priority ``LOW``), so the failing iteration is never saved;
``SafeCheckpointHook`` additionally refuses to write non-finite weights.
"""
import math
from typing import Dict, List, Optional

import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS

from cen_mm.engine.runner.errors import NonFiniteTrainingError


def non_finite_tensors(module: torch.nn.Module, limit: int = 5) -> List[str]:
    """Names of up to ``limit`` floating parameters/buffers of ``module`` with NaN/Inf."""
    if is_model_wrapper(module):
        module = module.module
    named = [(n, t) for n, t in list(module.named_parameters()) +
             list(module.named_buffers()) if t.is_floating_point()]
    if not named:
        return []
    with torch.no_grad():
        finite = torch.stack([torch.isfinite(t).all() for _, t in named])
    if bool(finite.all()):
        return []
    return [named[i][0] for i in torch.nonzero(~finite).flatten().tolist()[:limit]]


def non_finite_log_vars(outputs: Optional[Dict]) -> Dict[str, float]:
    """The entries of a ``train_step`` output (log variables) that are NaN/Inf."""
    bad = {}
    for key, value in (outputs or {}).items():
        if isinstance(value, torch.Tensor):
            if value.is_floating_point() and not bool(torch.isfinite(value).all()):
                bad[key] = float(value.detach().float().flatten()[0])
        elif isinstance(value, float) and not math.isfinite(value):
            bad[key] = value
    return bad


@HOOKS.register_module()
class NonFiniteGuardHook(Hook):
    """Raise :class:`NonFiniteTrainingError` on non-finite losses or weights.

    Args:
        patience: number of consecutive iterations with a non-finite loss tolerated
            before stopping (1: stop at the first). Useful with a dynamic AMP loss scale,
            which skips steps whose gradients overflow.
        param_check_interval: check every parameter/buffer for NaN/Inf every this many
            iterations (0: never; also checked whenever the loss is non-finite). Weights
            that are not finite stop the run at once whatever the patience.
    """
    priority = 'LOW'  # after LoggerHook (BELOW_NORMAL), before CheckpointHook

    def __init__(self, patience: int = 1, param_check_interval: int = 100) -> None:
        if not isinstance(patience, int) or patience < 1:
            raise ValueError(f'NonFiniteGuardHook: patience must be an int >= 1, '
                             f'got {patience!r}')
        if not isinstance(param_check_interval, int) or param_check_interval < 0:
            raise ValueError('NonFiniteGuardHook: param_check_interval must be an int '
                             f'>= 0, got {param_check_interval!r}')
        self.patience = patience
        self.param_check_interval = param_check_interval
        self._bad_iters = 0

    def _stop(self, runner, what: str) -> None:
        last = runner.message_hub.get_info('last_ckpt')
        msg = (f'{what} at iteration {runner.iter + 1}: training stopped (the failing '
               'state was not saved; '
               + (f'the last finite checkpoint is {last}). ' if last else
                  'no checkpoint was written yet). ')
               + 'Lower the learning rate (optim_wrapper.optimizer.lr), add gradient '
               'clipping (optim_wrapper.clip_grad=dict(max_norm=...)), or raise '
               'default_hooks.non_finite_guard.patience.')
        runner.logger.error(msg)
        raise NonFiniteTrainingError(msg)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs: Optional[dict] = None) -> None:
        bad = non_finite_log_vars(outputs)
        check_params = bool(bad) or (
            self.param_check_interval and
            (runner.iter + 1) % self.param_check_interval == 0)
        if check_params:
            names = non_finite_tensors(runner.model)
            if names:
                self._stop(runner, 'non-finite weights (' + ', '.join(names) + ')'
                           + (f' and loss {bad}' if bad else ''))
        if not bad:
            self._bad_iters = 0
            return
        self._bad_iters += 1
        if self._bad_iters >= self.patience:
            self._stop(runner, f'non-finite loss {bad} for {self._bad_iters} '
                       'consecutive iteration(s)')
        runner.logger.warning(f'non-finite loss {bad} at iteration {runner.iter + 1} '
                              f'({self._bad_iters}/{self.patience} tolerated)')
