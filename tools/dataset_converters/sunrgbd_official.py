"""Convert the official SUN RGB-D release into the cen_mm RGB-D layout.

    python tools/dataset_converters/sunrgbd_official.py ROOT -o data/sunrgbd \
        [--toolbox ROOT/SUNRGBDtoolbox] [--depth filled]

ROOT holds the unzipped ``SUNRGBD.zip`` (``SUNRGBD/``) and ``SUNRGBDtoolbox.zip``
(``SUNRGBDtoolbox/``: ``Metadata/SUNRGBDMeta.mat``, ``Metadata/SUNRGBD2Dseg.mat`` with the
37-class labels, ``traintestSUNRGBD/allsplit.mat`` with the 5285 / 5050 split). Depth
PNGs are copied unchanged (``depth/``, or ``depth_bfx/`` with ``--depth filled``);
``camera.json`` keeps each frame's intrinsics for ``depth2hha.py``. Interrupted? Rerun
the same command: it resumes. See docs/data.md.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))
from cen_mm.seg.datasets.conversion import format_summary  # noqa: E402
from cen_mm.seg.datasets.official.staging import run_conversion  # noqa: E402
from cen_mm.seg.datasets.official.sunrgbd_release import (  # noqa: E402
    DEPTH_FOLDERS, convert_sunrgbd_release)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Convert the official SUN RGB-D release (SUNRGBD/ + SUNRGBDtoolbox/) '
        'into the cen_mm RGB-D layout (37 classes, 5285/5050 split). Restartable: rerun '
        'the same command after an interruption.')
    parser.add_argument('root', help='folder holding SUNRGBD/ (and SUNRGBDtoolbox/)')
    parser.add_argument('-o', '--out', required=True, help='output folder (created)')
    parser.add_argument('--toolbox', help='SUNRGBDtoolbox folder (default ROOT/'
                        'SUNRGBDtoolbox)')
    parser.add_argument('--depth', choices=tuple(DEPTH_FOLDERS), default='raw',
                        help='raw: depth/ (0 = no measurement); filled: depth_bfx/')
    parser.add_argument('--overwrite', action='store_true',
                        help='replace an existing output folder')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    return run_conversion(
        lambda: convert_sunrgbd_release(args.root, args.out, toolbox=args.toolbox,
                                        depth=args.depth, overwrite=args.overwrite),
        args.out, format_summary)


if __name__ == '__main__':
    sys.exit(main())
