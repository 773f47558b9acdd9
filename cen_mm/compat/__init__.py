"""Workarounds for the pinned stack (mmengine 0.10.7, mmseg 1.2.2, mmagic 1.2.0,
mmpretrain 1.2.0, mmcv 2.1.0, torch 2.14), one module each, each naming the upstream
problem it works around and the condition that retires it (table: ``docs/compat.md``).

Switched on explicitly, in one place (``cen_mm/__init__.py``):

* :func:`defer_transformers_import` — before anything imports ``mmengine.optim``;
* :func:`register_safe_checkpoint_schemes` — after ``cen_mm.engine`` is imported.

The other modules are helpers that the code needing them calls (no import side
effects): :mod:`.optim_wrapper` (``_clip_grad``, ``_accumulative_counts``),
:mod:`.mmpretrain_heads` (``ClsHead._get_loss`` / ``_get_predictions``),
:mod:`.mmagic_translation` (``BaseTranslationModel.__init__`` / ``init_weights``),
:mod:`.process_exit` (``os._exit`` after a gloo run), :mod:`.profiler_memory` (the
profiler's private kineto events, for the benchmark's CPU peak memory). The
``package::`` config-scope hook lives outside the package, in the top-level
``cen_mm_scope.py``, because it runs at interpreter start-up
(``cen_mm-config-scope.pth``), where importing ``cen_mm`` would cost seconds.

Importing this package adds only standard-library imports (checked by
``tests/test_compat``); the helpers that need mmengine, mmagic or mmpretrain are
imported by the code that uses them.
"""
from .checkpoint_schemes import register_safe_checkpoint_schemes
from .lazy_transformers import defer_transformers_import
from .process_exit import exit_skipping_gloo_teardown

__all__ = [
    'defer_transformers_import', 'register_safe_checkpoint_schemes',
    'exit_skipping_gloo_teardown'
]
