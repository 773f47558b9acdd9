"""Check a cen_mm environment: every pin of requirements/constraints.txt holds, mmcv's
compiled ops run, the three OpenMMLab sides import, and cen_mm's C++ op builds and
passes its self-check (unless CEN_MM_EXT=0).

Usage: python tools/install/check_env.py [requirements/constraints.txt]
Exit status 1 with one line per problem (package, installed version, expected pin).
"""
import os
import sys
import warnings
from importlib import metadata
from pathlib import Path

try:
    from packaging.requirements import Requirement
except ImportError:  # pragma: no cover - packaging ships with pip/setuptools anyway
    from pip._vendor.packaging.requirements import Requirement

DEFAULT = Path(__file__).resolve().parents[2] / 'requirements' / 'constraints.txt'


def pin_violations(constraints_file):
    """Lines ``'<name> <installed> does not satisfy <pin>'`` for every broken pin."""
    problems = []
    for line in Path(constraints_file).read_text().splitlines():
        line = line.split('#', 1)[0].strip()
        if not line:
            continue
        req = Requirement(line)
        try:
            version = metadata.version(req.name)
        except metadata.PackageNotFoundError:
            problems.append(f'{req.name} is not installed (expected {req.specifier})')
            continue
        # local build tags (+cu130, +cpu) do not count against a pin
        if not req.specifier.contains(version.split('+')[0], prereleases=True):
            problems.append(f'{req.name} {version} does not satisfy {req}')
    return problems


def main(argv):
    constraints_file = argv[1] if len(argv) > 1 else DEFAULT
    problems = pin_violations(constraints_file)
    if problems:
        for p in problems:
            print(f'[check_env] {p} ({constraints_file})', file=sys.stderr)
        return 1
    import mmcv
    import mmengine
    import mmpretrain
    import mmseg
    import numpy
    import torch
    import torchvision
    from mmcv.ops import nms

    import mmagic.models  # noqa: F401  (imports diffusers/transformers: must work)
    import cen_mm
    boxes = torch.tensor([[0., 0., 10., 10.], [1., 1., 10., 10.], [20., 20., 30., 30.]])
    keep = nms(boxes, torch.tensor([0.9, 0.8, 0.7]), 0.5)[1]
    if keep.tolist() != [0, 2]:
        print(f'[check_env] mmcv.ops.nms returned {keep.tolist()}, expected [0, 2]: '
              'the compiled ops are broken', file=sys.stderr)
        return 1
    # cen_mm's C++ op (built on first use, ~10 s; the set-up has the compiler and
    # ninja it needs, so failing here is a broken toolchain, not a missing option)
    from cen_mm.ops import stream_layer_norm as fused_ops
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        fused = fused_ops.status()
    if fused != 'on' and os.environ.get('CEN_MM_EXT') != '0':
        print(f'[check_env] cen_mm\'s fused stream LayerNorm op: {fused}; it is built '
              f'with torch.utils.cpp_extension into {fused_ops.build_directory()} and '
              'needs a C++ compiler and ninja (CEN_MM_EXT=0 runs without it, slower)',
              file=sys.stderr)
        return 1
    print(f'torch {torch.__version__} (cuda available: {torch.cuda.is_available()}), '
          f'torchvision {torchvision.__version__}, numpy {numpy.__version__}, '
          f'mmengine {mmengine.__version__}, mmcv {mmcv.__version__} (ops ok), '
          f'mmseg {mmseg.__version__}, mmpretrain {mmpretrain.__version__}, '
          f'mmagic {metadata.version("mmagic")}, '
          f'setuptools {metadata.version("setuptools")}, cen_mm {cen_mm.__version__}; '
          f'fused stream LayerNorm op {fused}; all pins of constraints.txt hold')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
