"""Keep ``import cen_mm`` light: no transformers at import time.

mmengine 0.10.7 imports ``transformers`` (~0.3 s and hundreds of modules) the first time
``mmengine.optim`` is imported, only to register its ``Adafactor`` optimizer. cen_mm
imports ``mmengine.optim`` with ``transformers`` hidden, then registers ``Adafactor`` as a
factory that imports transformers when (and only if) a config builds it. If something
imported ``mmengine.optim`` before cen_mm, nothing is changed.
"""
import importlib.util
import sys


def _build_adafactor(*args, **kwargs):
    """Build ``transformers.Adafactor`` (imported on first use)."""
    from transformers import Adafactor
    return Adafactor(*args, **kwargs)


def import_mmengine_optim_lazily() -> None:
    if 'mmengine.optim' in sys.modules or 'transformers' in sys.modules:
        return
    sys.modules['transformers'] = None  # `from transformers import X` -> ImportError
    try:
        import mmengine.optim  # noqa: F401
    finally:
        del sys.modules['transformers']
    from mmengine.registry import OPTIMIZERS
    if (importlib.util.find_spec('transformers') is not None
            and 'Adafactor' not in OPTIMIZERS.module_dict):
        OPTIMIZERS.register_module(name='Adafactor', module=_build_adafactor)
