"""``CENSparsityHook``: the ℓ1 penalty λ·Σ|γ̂| on the exchanging norms' scaling factors.

For every exchanging :class:`~cen_mm.core.ModalityNorm` (found with
:func:`cen_mm.core.iter_exchanging_norms`, no parameter names in configs) and every
stream m, γ̂_m is the part of ``norms[m].weight`` on stream m's own channel sub-part
(``owner_mask[m]``, NeurIPS'20 Eq. 4 / TPAMI'23 Eq. 2). The hook never touches the
training loss; it acts on the optimizer(s) that own those parameters.
"""
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn as nn
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.optim import OptimWrapper, OptimWrapperDict
from mmengine.registry import HOOKS

from cen_mm.compat.optim_wrapper import restore_clip_grad, run_before_clip_grad
from cen_mm.core import iter_exchanging_norms

SPARSITY_MODES = ('subgradient', 'proximal')
PENALTY_CHANNELS = ('subpart', 'all')


class PenalizedGamma:
    """One stream's scaling factors of one exchanging layer and where λ acts on them.

    Attributes:
        layer: module name of the :class:`ModalityNorm`.
        stream: stream index m.
        param: ``norms[m].weight``, shape (C,).
        mask: (C,) bool, the penalised channels (the sub-part, or all channels).
        coef: (C,) λ on the penalised channels and 0 elsewhere (param's dtype/device).
        threshold: θ of the layer.
        count: number of penalised channels.
    """

    def __init__(self, layer: str, stream: int, param: nn.Parameter,
                 mask: torch.Tensor, lambda_: float, threshold: float):
        self.layer = layer
        self.stream = stream
        self.param = param
        self.mask = mask.to(param.device)
        self.coef = self.mask.to(param.dtype) * lambda_
        self.threshold = threshold
        self.count = int(mask.sum())

    def coef_like(self, tensor: torch.Tensor) -> torch.Tensor:
        """``coef`` on the device/dtype of ``tensor`` (no copy when they match)."""
        return self.coef.to(tensor)


def penalized_gammas(model: nn.Module, lambda_: float,
                     penalty_channels: str = 'subpart') -> List[PenalizedGamma]:
    """The (layer, stream) scaling factors the ℓ1 penalty acts on, in module order."""
    if penalty_channels not in PENALTY_CHANNELS:
        raise ValueError(f'penalty_channels must be one of {PENALTY_CHANNELS}, '
                         f'got {penalty_channels!r}')
    if is_model_wrapper(model):
        model = model.module
    entries = []
    for name, norm in iter_exchanging_norms(model):
        for m in range(norm.num_streams):
            param = norm.norms[m].weight
            if penalty_channels == 'subpart':
                mask = norm.owner_mask[m]
            else:
                mask = torch.ones(param.shape[0], dtype=torch.bool)
            entries.append(
                PenalizedGamma(name, m, param, mask, lambda_, norm.threshold))
    return entries


def _named_wrappers(optim_wrapper) -> List[Tuple[str, OptimWrapper]]:
    if isinstance(optim_wrapper, OptimWrapperDict):
        return list(optim_wrapper.items())
    if isinstance(optim_wrapper, OptimWrapper):
        return [('', optim_wrapper)]
    raise TypeError('CENSparsityHook needs the runner to hold an OptimWrapper or an '
                    f'OptimWrapperDict, got {type(optim_wrapper).__name__}')


@HOOKS.register_module()
class CENSparsityHook(Hook):
    """Apply the CEN sparsity penalty λ·Σ_l Σ_m |γ̂_{l,m}| through the optimizer(s).

    Args:
        lambda_: λ (paper 5e-3 for segmentation, 1e-3 for translation; the official
            segmentation code sets 2e-4 but adds the penalty once per output, RGB,
            depth and ensemble, i.e. 3 x 2e-4 = 6e-4 in this hook's terms; see
            docs/paper_protocol.md).
        mode:
            ``'subgradient'`` (default): before every real optimizer step, add
            ``λ·sign(γ̂)`` to γ̂'s gradient. Precisely: let L be the loss handed to
            ``OptimWrapper.update_params`` (or ``backward``) at each of the k
            micro-steps of one accumulation window. mmengine back-propagates L_i/k
            and steps once, so the optimizer sees ``g = Σ_i ∇L_i / k`` (k the
            number of micro-steps of this window, also for the last, shorter one).
            Adding λ·Σ|γ̂| to *every* L_i gives ``g + λ·sign(γ̂)`` (γ̂ does not change
            within a window), which is what the hook hands to the optimizer — so the
            update, weight decay (computed inside ``optimizer.step`` from ``g``),
            momentum and Adam moments are those of training on ``L + λ·Σ|γ̂|``, with
            ``sign(0) = 0`` as autograd's |·|. A parameter left without gradient gets
            ``λ·sign(γ̂)`` as its gradient, as the loss term would give it. Details:

            * AMP (``AmpOptimWrapper``/``GradScaler``): the addition is made in a torch
              *optimizer step pre-hook*, which ``GradScaler.step`` reaches only after
              unscaling and only if no inf/NaN was found (skipped steps apply
              nothing). Optimizers that unscale inside their own step
              (``fused=True``, ``_step_supports_amp_scaling``) are reached with
              still-scaled gradients and skip the update themselves on inf/NaN:
              they receive ``λ·sign(γ̂)·optimizer.grad_scale``.
            * Gradient clipping (``clip_grad`` in the wrapper): the penalty gradient
              is added just before clipping so that it is clipped with the rest, as
              the loss term would be.
            * DDP: gradients are already averaged over ranks when the optimizer
              steps; every rank adds the same λ·sign(γ̂), i.e. the mean of the
              ranks' penalties.

            ``'proximal'``: after every real optimizer step (skipped AMP steps
            excluded), soft-threshold the penalised entries,
            ``γ̂ ← sign(γ̂)·max(|γ̂| − lr·λ, 0)``, with ``lr`` the current learning rate
            of the parameter group that owns ``norms[m].weight``. This is the
            proximal-gradient (ISTA) step for SGD without momentum and gives exact
            zeros; with momentum/Adam it is the usual heuristic.
        penalty_channels: ``'subpart'`` (papers: each stream's own sub-part only, also
            for layers with ``exchange_mode='all'``) or ``'all'`` (NeurIPS'20 Table 1
            ablation "ℓ1 on all channels").
        log_interval: every this many training iterations, write to the message hub
            ``train/sparsity_penalty`` (λ·Σ|γ̂| over the penalised entries; *not* part
            of the logged loss) and ``train/sparsity_frac_below_thr`` (fraction of
            penalised entries with |γ̂| < θ of their layer).

    Config example: ``custom_hooks = [dict(type='CENSparsityHook', lambda_=5e-3,
    mode='subgradient')]``. The γ parameters are found by identity in the runner's
    optimizer wrapper or, for an ``OptimWrapperDict`` (mmagic), in whichever wrapper
    owns them (the generator's).
    """

    priority = 'NORMAL'

    def __init__(self,
                 lambda_: float = 5e-3,
                 mode: str = 'subgradient',
                 penalty_channels: str = 'subpart',
                 log_interval: int = 1):
        if mode not in SPARSITY_MODES:
            raise ValueError(f'CENSparsityHook: mode must be one of {SPARSITY_MODES}, '
                             f'got {mode!r}')
        if penalty_channels not in PENALTY_CHANNELS:
            raise ValueError('CENSparsityHook: penalty_channels must be one of '
                             f'{PENALTY_CHANNELS}, got {penalty_channels!r}')
        if not float(lambda_) >= 0:
            raise ValueError(f'CENSparsityHook: lambda_ must be >= 0, got {lambda_}')
        if int(log_interval) < 1:
            raise ValueError('CENSparsityHook: log_interval must be >= 1, got '
                             f'{log_interval}')
        self.lambda_ = float(lambda_)
        self.mode = mode
        self.penalty_channels = penalty_channels
        self.log_interval = int(log_interval)
        self.entries: List[PenalizedGamma] = []
        self._handles: list = []
        self._patched_wrappers: List[OptimWrapper] = []

    # ---- attach / detach ---------------------------------------------------------
    def before_train(self, runner) -> None:
        self.attach(runner.model, runner.optim_wrapper, runner.logger)

    def after_train(self, runner) -> None:
        self.detach()

    def attach(self, model: nn.Module, optim_wrapper, logger=None) -> None:
        """Find the penalised γ in ``model`` and hook the wrapper(s) owning them."""
        self.detach()
        entries = penalized_gammas(model, self.lambda_, self.penalty_channels)
        if not entries:
            raise ValueError(
                'CENSparsityHook: the model has no exchanging ModalityNorm '
                '(exchange=True) layers to penalise. Remove the hook from '
                'custom_hooks, or for an "l1 without exchange" ablation use '
                'exchange=True with threshold=0.')
        owners: Dict[int, Tuple[OptimWrapper, int]] = {}
        for _, wrapper in _named_wrappers(optim_wrapper):
            for group_idx, group in enumerate(wrapper.optimizer.param_groups):
                for p in group['params']:
                    owners[id(p)] = (wrapper, group_idx)
        per_wrapper: Dict[int, Tuple[OptimWrapper, List[Tuple[PenalizedGamma, int]]]]
        per_wrapper = {}
        self.entries, orphans = [], []
        for entry in entries:
            if not entry.param.requires_grad:
                continue  # frozen: the loss term would not move it either
            if id(entry.param) not in owners:
                orphans.append(f'{entry.layer}.norms.{entry.stream}.weight')
                continue
            wrapper, group_idx = owners[id(entry.param)]
            per_wrapper.setdefault(id(wrapper), (wrapper, []))[1].append(
                (entry, group_idx))
            self.entries.append(entry)
        if orphans and logger is not None:
            logger.warning('CENSparsityHook: no optimizer owns these trainable '
                           f'scaling factors, they are not penalised: {orphans}')
        if not self.entries:
            raise ValueError('CENSparsityHook: none of the exchanging layers\' '
                             'scaling factors is trainable and owned by an optimizer '
                             f'(not owned: {orphans})')
        for wrapper, items in per_wrapper.values():
            optimizer = wrapper.optimizer
            if self.mode == 'proximal':
                self._handles.append(optimizer.register_step_post_hook(
                    self._make_proximal_post_hook(items)))
            elif wrapper.clip_grad_kwargs:
                self._patch_clip_grad(wrapper, [e for e, _ in items])
            else:
                self._handles.append(optimizer.register_step_pre_hook(
                    self._make_subgradient_pre_hook([e for e, _ in items])))

    def detach(self) -> None:
        """Remove every optimizer hook / patch this hook installed."""
        for handle in self._handles:
            handle.remove()
        self._handles = []
        for wrapper in self._patched_wrappers:
            restore_clip_grad(wrapper)
        self._patched_wrappers = []

    # ---- the penalty -------------------------------------------------------------
    @staticmethod
    @torch.no_grad()
    def add_penalty_grad(entries: List[PenalizedGamma],
                         grad_scale: Optional[torch.Tensor] = None) -> None:
        """``grad += λ·sign(γ)`` on the penalised entries (times ``grad_scale``)."""
        for entry in entries:
            p = entry.param
            extra = entry.coef_like(p) * torch.sign(p)
            if grad_scale is not None:
                extra = extra * grad_scale.to(extra)
            if p.grad is None:
                p.grad = extra
            else:
                p.grad.add_(extra)

    def _make_subgradient_pre_hook(self, entries: List[PenalizedGamma]):

        def pre_hook(optimizer, args, kwargs):
            # Non-fused path: GradScaler.step has unscaled the grads and found them
            # finite before calling optimizer.step. Fused path
            # (_step_supports_amp_scaling): grads are still scaled by
            # ``optimizer.grad_scale`` (None if unscale_ ran already).
            self.add_penalty_grad(entries, getattr(optimizer, 'grad_scale', None))

        return pre_hook

    def _patch_clip_grad(self, wrapper: OptimWrapper,
                         entries: List[PenalizedGamma]) -> None:
        # the penalty must be in the gradient before it is clipped (see
        # cen_mm.compat.optim_wrapper: mmengine has no public hook there)
        run_before_clip_grad(wrapper, lambda: self.add_penalty_grad(entries))
        self._patched_wrappers.append(wrapper)

    def _make_proximal_post_hook(self, items: List[Tuple[PenalizedGamma, int]]):

        @torch.no_grad()
        def post_hook(optimizer, args, kwargs):
            found_inf = getattr(optimizer, 'found_inf', None)
            if found_inf is not None and bool(found_inf.item()):
                return  # fused optimizer under GradScaler skipped this step
            for entry, group_idx in items:
                lr = float(optimizer.param_groups[group_idx]['lr'])
                p = entry.param
                shrink = entry.coef_like(p) * lr
                p.copy_(torch.sign(p) * (p.abs() - shrink).clamp_min(0))

        return post_hook

    # ---- logging -----------------------------------------------------------------
    @torch.no_grad()
    def penalty_stats(self) -> Tuple[float, float]:
        """(λ·Σ|γ̂| over the penalised entries, fraction of them with |γ̂| < θ)."""
        if not self.entries:
            return 0.0, 0.0
        penalty, below, total = [], [], 0
        for entry in self.entries:
            p = entry.param.detach()
            penalty.append((entry.coef_like(p) * p.abs()).sum().float())
            below.append(((p.abs() < entry.threshold)
                          & entry.mask.to(p.device)).sum().float())
            total += entry.count
        values = torch.stack([torch.stack(penalty).sum(),
                              torch.stack(below).sum()]).tolist()
        return values[0], values[1] / max(total, 1)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        if not self.every_n_train_iters(runner, self.log_interval):
            return
        penalty, frac_below = self.penalty_stats()
        runner.message_hub.update_scalar('train/sparsity_penalty', penalty)
        runner.message_hub.update_scalar('train/sparsity_frac_below_thr', frac_below)
