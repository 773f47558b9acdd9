"""``register_all_modules`` for the ``cen_mm`` registry scope (see cen_mm/registry.py).

mmengine calls ``<scope>.utils.register_all_modules(False)`` when it builds something in
a scope whose modules may not be imported yet (here: ``cen_mm::`` bases).
"""


def register_all_modules(init_default_scope: bool = False) -> None:
    """Import cen_mm and mmseg's modules so every name of the scope is registered."""
    from mmseg.utils import register_all_modules as register_mmseg

    import cen_mm  # noqa: F401
    import cen_mm.registry  # noqa: F401
    register_mmseg(init_default_scope=False)
    if init_default_scope:
        from mmengine.registry import init_default_scope as _init
        _init('cen_mm')
