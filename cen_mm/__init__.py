"""cen_mm: Channel-Exchanging Networks for mmsegmentation, mmagic and mmpretrain.

``import cen_mm`` (what ``custom_imports=dict(imports=['cen_mm'])`` does) registers
the scope-neutral pieces (core, backbones, necks, hooks, runner) in mmengine's root
registries — visible from the mmseg, mmagic and mmpretrain scopes — and the segmentation
side in mmseg's registries. It never imports mmagic: the translation side is
``cen_mm.translation`` (``custom_imports=dict(imports=['cen_mm.translation'])``).

The two workarounds for the pinned stack that act at import time are switched on here,
explicitly (see :mod:`cen_mm.compat` and ``docs/compat.md``).
"""
from .version import __version__  # noqa: F401
from . import compat

compat.defer_transformers_import()  # before anything imports mmengine.optim
from . import core  # noqa: F401,E402
from . import engine  # noqa: F401,E402
from . import utils  # noqa: F401,E402
from . import models  # noqa: F401,E402
from . import seg  # noqa: F401,E402

compat.register_safe_checkpoint_schemes()  # local and http(s) checkpoints load safely
