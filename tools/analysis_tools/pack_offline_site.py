"""Pack the pure-Python OpenMMLab stack of this environment for an offline GPU machine.

    python tools/analysis_tools/pack_offline_site.py OUT.tar.gz

For running ``gpu_benchmark.py`` on a lent GPU machine that cannot reach a package
index and has its own CUDA build of torch, numpy, OpenCV, matplotlib etc., but no
OpenMMLab packages. The archive holds the files of the distributions below as
installed here (with their ``.dist-info``, so ``mmseg::`` config scopes resolve),
without compiled files and caches. mmcv's compiled ops cannot be built within such
a lease; the archive carries ``mmcv/_ext.py`` instead, whose every op raises when
called, so a figure can never come from a missing op (none of the benchmarked models
calls one). On the GPU machine:

    mkdir -p /tmp/site && tar -xzf OUT.tar.gz -C /tmp/site && export PYTHONPATH=/tmp/site
"""
import argparse
import importlib.metadata
import io
import os
import sys
import tarfile

DISTRIBUTIONS = ('mmengine', 'mmcv', 'mmsegmentation', 'mmpretrain', 'addict', 'yapf',
                 'termcolor', 'prettytable', 'wcwidth', 'ftfy', 'mat4py', 'modelindex',
                 'ordered-set', 'platformdirs', 'importlib-metadata',
                 'lazy-importer')
# packages whose metadata names none (modelindex's RECORD and top_level.txt are empty)
EXTRA_PACKAGES = {'modelindex': ('modelindex', )}
SKIPPED_SUFFIXES = ('.so', '.pyc', '.pyd')
SKIPPED_TOP_LEVEL = ('..', '', 'tests', 'yapftests')  # outside, or test suites
OPS_STAND_IN = '''"""Stand-in for mmcv's compiled ops (packed by pack_offline_site.py): every op
raises when called."""


def __getattr__(name):
    def missing(*args, **kwargs):
        raise RuntimeError(f'mmcv op {name!r} is not compiled on this machine')
    missing.__name__ = name
    return missing
'''


def packed_files(name: str) -> list:
    """(absolute path, archive name) of the distribution's installed files: those its
    RECORD lists, and the files under its top-level packages (some RECORDs omit
    them)."""
    try:
        dist = importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        raise SystemExit(f'{name} is not installed in {sys.prefix}: run this with the '
                         'set-up\'s .venv python (see README)')
    root = str(dist.locate_file(''))
    names = {str(entry) for entry in dist.files or ()}
    tops = set((dist.read_text('top_level.txt') or '').split())
    for top in sorted(tops | set(EXTRA_PACKAGES.get(name, ()))):
        for folder, _, files in os.walk(os.path.join(root, top)):
            names.update(os.path.relpath(os.path.join(folder, f), root) for f in files)
    packed = []
    for arcname in sorted(names):
        parts = arcname.split(os.sep)
        path = os.path.join(root, arcname)
        if (parts[0] in SKIPPED_TOP_LEVEL or '__pycache__' in parts
                or path.endswith(SKIPPED_SUFFIXES) or not os.path.isfile(path)):
            continue
        packed.append((path, arcname))
    return packed


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('out', help='the .tar.gz to write')
    args = parser.parse_args(argv)
    tmp = args.out + '.tmp'
    count = 0
    with tarfile.open(tmp, 'w:gz') as archive:
        for name in DISTRIBUTIONS:
            for path, arcname in packed_files(name):
                archive.add(path, arcname=arcname, recursive=False)
                count += 1
        data = OPS_STAND_IN.encode()
        info = tarfile.TarInfo('mmcv/_ext.py')
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    os.replace(tmp, args.out)
    print(f'{args.out}: {count + 1} files of {len(DISTRIBUTIONS)} distributions, '
          f'{os.path.getsize(args.out) / 2**20:.1f} MiB')


if __name__ == '__main__':
    main()
