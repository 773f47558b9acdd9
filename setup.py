"""cen_mm: Channel-Exchanging Networks for OpenMMLab.

Install with ``bash tools/install/setup_env.sh`` (builds mmcv with ops, see README);
the pins below are read from ``requirements/`` so the script and this file never drift.
"""
import re
from pathlib import Path

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

SCOPE_PTH = 'cen_mm-config-scope.pth'

HERE = Path(__file__).parent


def _lines(name):
    for line in (HERE / 'requirements' / name).read_text().splitlines():
        line = line.split('#', 1)[0].strip()
        if line:
            yield line


def _name(requirement):
    return re.split(r'[<>=!~\[; ]', requirement, maxsplit=1)[0].lower().replace('_', '-')


def read_requirements(*names):
    """Requirement names from ``requirements/<name>``, each with its version specifier from
    ``requirements/constraints.txt`` (the one place for pins, also passed with ``-c`` to
    every pip call of the set-up), so this file and the set-up never drift."""
    pins = {_name(line): line for line in _lines('constraints.txt')}
    return [pins.get(_name(req), req) for name in names for req in _lines(name)]


class BuildPyWithScopePth(build_py):
    """Also put ``cen_mm-config-scope.pth`` at the top of the wheel (site-packages): it
    registers the ``cen_mm::`` config scope for mmengine (see cen_mm_scope.py)."""

    def run(self):
        super().run()
        self.copy_file(str(HERE / SCOPE_PTH), str(Path(self.build_lib) / SCOPE_PTH))

    def get_outputs(self, include_bytecode=True):
        return super().get_outputs(include_bytecode) + [
            str(Path(self.build_lib) / SCOPE_PTH)]


def read_version():
    scope = {}
    exec((HERE / 'cen_mm' / 'version.py').read_text(), scope)
    return scope['__version__']


setup(
    name='cen_mm',
    version=read_version(),
    description='Channel-Exchanging Networks (CEN) for mmsegmentation, mmagic and '
    'mmpretrain',
    long_description=(HERE / 'README.md').read_text() if (HERE / 'README.md').exists()
    else '',
    long_description_content_type='text/markdown',
    packages=find_packages(include=['cen_mm', 'cen_mm.*']),
    py_modules=['cen_mm_scope'],
    # configs ship inside the package (cen_mm/.mim/configs -> ../../configs), the
    # place mmengine looks for `cen_mm::` bases
    package_data={'cen_mm': ['.mim/model-index.yml', '.mim/configs/*/*.py',
                             '.mim/configs/*/*/*.py',
                             # listed in model-index.yml (mmengine reads them)
                             '.mim/configs/*/metafile.yaml',
                             # C++ source of the op built at first use (cen_mm/ops)
                             'ops/csrc/*.cpp']},
    include_package_data=True,
    cmdclass={'build_py': BuildPyWithScopePth},
    python_requires='>=3.11',
    # mmagic is installed with --no-deps and mmcv from a locally built wheel by the set-up
    # script, so they are not listed here (pip would try to resolve their metadata).
    install_requires=read_requirements('torch.txt', 'openmmlab.txt', 'runtime.txt'),
    extras_require={'tests': read_requirements('tests.txt')},
    zip_safe=False,
)
