"""Import ``mmengine.optim`` without ``transformers`` (mmengine 0.10.7).

Problem: ``mmengine/optim/optimizer/builder.py`` imports ``transformers`` the first
time ``mmengine.optim`` is imported, only to register its ``Adafactor`` optimizer:
0.19–0.41 s (median 0.33 s, ``python -X importtime``, 2 busy CPU cores) of the ~5 s
``import cen_mm``, and 68 modules, in every segmentation / classification process,
which never needs it (the translation side imports transformers anyway, through
mmagic/diffusers).

Workaround: :func:`defer_transformers_import` imports ``mmengine.optim`` with
``sys.modules['transformers'] = None`` (so its ``try: import transformers`` fails), then
restores ``sys.modules`` and registers ``Adafactor`` as a factory that imports
transformers when (and only if) a config builds it. It does nothing if
``mmengine.optim`` or ``transformers`` was imported before.

Retire when: mmengine registers transformers' optimizers lazily (not the case up to
0.10.7), or when the ~0.3 s no longer matters.
"""
import importlib.util
import sys


def _build_adafactor(*args, **kwargs):
    """Build ``transformers.Adafactor`` (imported on first use)."""
    from transformers import Adafactor
    return Adafactor(*args, **kwargs)


def defer_transformers_import() -> bool:
    """Import ``mmengine.optim`` without transformers; True if it did (see module)."""
    if 'mmengine.optim' in sys.modules or 'transformers' in sys.modules:
        return False
    sys.modules['transformers'] = None  # `from transformers import X` -> ImportError
    try:
        import mmengine.optim  # noqa: F401
    finally:
        del sys.modules['transformers']
    from mmengine.registry import OPTIMIZERS
    if (importlib.util.find_spec('transformers') is not None
            and 'Adafactor' not in OPTIMIZERS.module_dict):
        OPTIMIZERS.register_module(name='Adafactor', module=_build_adafactor)
    return True
