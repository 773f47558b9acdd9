"""cen_mm: Channel-Exchanging Networks for OpenMMLab.

Install with ``bash tools/install/setup_env.sh`` (builds mmcv with ops, see README);
the pins below are read from ``requirements/`` so the script and this file never drift.
"""
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent


def read_requirements(*names):
    reqs = []
    for name in names:
        for line in (HERE / 'requirements' / name).read_text().splitlines():
            line = line.split('#', 1)[0].strip()
            if line:
                reqs.append(line)
    return reqs


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
    include_package_data=True,
    python_requires='>=3.11',
    # mmagic is installed with --no-deps and mmcv from a locally built wheel by the set-up
    # script, so they are not listed here (pip would try to resolve their metadata).
    install_requires=read_requirements('torch.txt', 'openmmlab.txt', 'runtime.txt'),
    extras_require={'tests': read_requirements('tests.txt')},
    zip_safe=False,
)
