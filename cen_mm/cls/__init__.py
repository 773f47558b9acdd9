"""Classification side (mmpretrain): knows mmpretrain, never mmseg/mmagic.

Configs import it with ``custom_imports=dict(imports=['cen_mm', 'cen_mm.cls'])``.
"""
from . import models  # noqa: F401
