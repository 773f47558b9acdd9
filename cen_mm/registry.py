"""The ``cen_mm`` registry scope — what ``_base_ = ['cen_mm::...']`` bases are built in.

mmengine marks every outer ``type`` dict of a ``package::`` base config with
``_scope_='package'`` and builds it in the registry of that scope (``cen_mm.registry``
is imported to find it). cen_mm's components live in mmengine's root registries
(scope-neutral) and in mmseg's (segmentation); so the ``cen_mm`` scope is a thin child
of each mmseg registry: lookups fall through to mmseg, then to the root. This makes
``cen_mm::`` bases of the segmentation configs build exactly like the configs
themselves. (Translation configs are mmagic-scope: inherit them by path.)
"""
from mmengine.registry import Registry
from mmseg import registry as _mmseg

_KINDS = [name for name in dir(_mmseg) if isinstance(getattr(_mmseg, name), Registry)]

for _name in _KINDS:
    _parent = getattr(_mmseg, _name)
    # the parent's locations too: a parent lookup does not import them by itself
    globals()[_name] = Registry(_parent.name, parent=_parent, scope='cen_mm',
                                locations=list(_parent._locations) + ['cen_mm'])

__all__ = list(_KINDS)
