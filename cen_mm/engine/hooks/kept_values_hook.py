"""``KeptValuesHook``: the CEN norms' kept values are dropped at the start and at the
end of every validation and test epoch.

``ModalityNorm`` keeps per-row tensors, exchange plans and (on accelerators) host
patterns while the parameters they come from keep their ``_version``
(:mod:`cen_mm.core.modality_norm`). mmengine's ``EMAHook`` swaps the EMA weights in
(``before_val_epoch`` / ``before_test_epoch``) and back (``after_*_epoch``) through
``.data``, which does not bump ``_version``. A change of train/eval mode drops the kept
values, which covers the swap in and the next training iteration. It does not cover
the end of training: after the last validation the model stays in eval mode and would
keep the EMA weights' values while its weights are the trained ones again (e.g. a
prediction right after ``runner.train()`` in the same process).

Priority ``LOW``: it runs after ``EMAHook`` (``NORMAL``) in each of these events.
``CENRunner`` adds it as ``default_hooks.kept_values`` (``=None`` removes it); with
mmengine's own ``Runner`` add ``dict(type='KeptValuesHook')`` to ``custom_hooks``.
"""
from mmengine.hooks import Hook
from mmengine.registry import HOOKS

from cen_mm.core import forget_kept_values


@HOOKS.register_module()
class KeptValuesHook(Hook):
    """Drop every ``ModalityNorm``'s kept values around validation and testing
    (after ``EMAHook``'s weight swaps)."""

    priority = 'LOW'

    def before_val_epoch(self, runner) -> None:
        forget_kept_values(runner.model)

    def after_val_epoch(self, runner, metrics=None) -> None:
        forget_kept_values(runner.model)

    def before_test_epoch(self, runner) -> None:
        forget_kept_values(runner.model)

    def after_test_epoch(self, runner, metrics=None) -> None:
        forget_kept_values(runner.model)
