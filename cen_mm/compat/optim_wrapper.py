"""Where mmengine 0.10.7's optimizer wrappers need a workaround.

1. A step between gradient un-scaling and clipping. ``OptimWrapper.step`` (and
   ``AmpOptimWrapper.step`` after ``GradScaler.unscale_``) calls the private
   ``_clip_grad()`` right before ``optimizer.step``; mmengine has no public hook there,
   and ``CENSparsityHook`` must add λ·sign(γ) to the gradients *before* they are clipped
   when ``clip_grad`` is configured (torch's optimizer pre-hooks run after clipping).
   :func:`run_before_clip_grad` wraps that one instance's ``_clip_grad`` (never the
   class); :func:`restore_clip_grad` undoes it.
   Retire when: mmengine offers a public "before clip" hook (not up to 0.10.7).
2. ``_accumulative_counts`` (gradient-accumulation iterations of a wrapper), read by
   mmagic's GAN ``train_step`` as well; :func:`accumulative_counts` is the one place
   cen_mm reads it. Retire when: mmengine makes it public.
3. Param groups as plain dicts. mmengine 0.10.7's ``DefaultOptimWrapperConstructor``
   leaves the optimizer's param groups as ``ConfigDict``; torch 2.14's dynamo cannot
   trace them in ``optimizer.step`` (``compile=True`` crashed with
   "'UserDefinedDictVariable' object has no attribute 'items'").
   :func:`plain_param_groups` converts them (same keys and values); ``CENRunner``
   applies it when it builds the optimizer wrapper. Retire when: the constructor
   builds plain dicts, or dynamo traces ``ConfigDict``.
"""
from typing import Callable

from mmengine.optim import OptimWrapper, OptimWrapperDict

_MARK = '_cen_mm_before_clip_grad'


def run_before_clip_grad(wrapper: OptimWrapper, before: Callable[[], None]) -> None:
    """Call ``before()`` every time ``wrapper`` is about to clip its gradients."""
    original = wrapper._clip_grad

    def clip_grad():
        before()
        original()

    setattr(clip_grad, _MARK, True)
    wrapper._clip_grad = clip_grad


def restore_clip_grad(wrapper: OptimWrapper) -> bool:
    """Remove what :func:`run_before_clip_grad` installed on ``wrapper`` (idempotent;
    True if something was removed). Removes every wrapping installed by it at once."""
    if getattr(wrapper.__dict__.get('_clip_grad'), _MARK, False):
        del wrapper.__dict__['_clip_grad']
        return True
    return False


def accumulative_counts(wrapper: OptimWrapper) -> int:
    """Iterations over which ``wrapper`` accumulates gradients (``accumulative_counts``
    of its config, 1 by default)."""
    return wrapper._accumulative_counts


def plain_param_groups(wrapper):
    """Turn the param groups of every optimizer of ``wrapper`` (an ``OptimWrapper``
    or ``OptimWrapperDict``) into plain dicts, in place; returns ``wrapper``."""
    wrappers = (wrapper.values() if isinstance(wrapper, OptimWrapperDict)
                else [wrapper])
    for single in wrappers:
        groups = single.optimizer.param_groups
        groups[:] = [g if type(g) is dict else dict(g) for g in groups]
    return wrapper
