"""Make ``_base_ = ['cen_mm::cen/xxx.py']`` work in any mmengine config.

mmengine 0.10.7 resolves ``package::path`` bases only for names listed in
``mmengine.config.utils.MODULE2PACKAGE``, and it resolves ``_base_`` *before* a config's
``custom_imports`` run — so importing cen_mm from the config is too late. The installed
``cen_mm-config-scope.pth`` (see setup.py) calls :func:`install` at interpreter start-up:
it adds a tiny import hook (no mmengine import, negligible start-up cost) that registers
``'cen_mm'`` right after ``mmengine.config.utils`` is first imported. The configs are
shipped inside the package as ``cen_mm/.mim/configs`` (mmengine's convention for
``package::`` bases).
"""
import importlib.abc
import importlib.util
import sys

_TARGET = 'mmengine.config.utils'


# mmengine turns the MODULE2PACKAGE value into a directory with
# ``get_installed_path``: for a distribution name it joins the distribution's location
# with the name, which is wrong for editable installs (site-packages/cen_mm does not
# exist); for an importable module that is not a distribution it takes the directory of
# the module's file. ``cen_mm.version`` lives in the package directory in both kinds of
# install, so ``<that directory>/.mim/configs`` is found either way.
PACKAGE_ANCHOR = 'cen_mm.version'


def register_scope(module=None) -> None:
    """Add ``'cen_mm'`` to mmengine's MODULE2PACKAGE (idempotent)."""
    if module is None:
        import mmengine.config.utils as module
    module.MODULE2PACKAGE.setdefault('cen_mm', PACKAGE_ANCHOR)


class _ScopeRegistrar(importlib.abc.MetaPathFinder):
    """Wraps the loader of ``mmengine.config.utils`` to register the scope after it."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != _TARGET:
            return None
        sys.meta_path.remove(self)  # one shot; lets the real finders do the work
        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None:
            return spec
        exec_module = spec.loader.exec_module

        def exec_and_register(module):
            exec_module(module)
            register_scope(module)

        spec.loader.exec_module = exec_and_register
        return spec


def install() -> None:
    """Called from the .pth file at start-up."""
    if _TARGET in sys.modules:
        register_scope(sys.modules[_TARGET])
    elif not any(isinstance(f, _ScopeRegistrar) for f in sys.meta_path):
        sys.meta_path.insert(0, _ScopeRegistrar())
