"""Convert the official NYUDv2 labeled release into the cen_mm RGB-D layout.

    python tools/dataset_converters/nyudv2_official.py nyu_depth_v2_labeled.mat \
        --mapping classMapping40.mat --splits splits.mat -o data/nyudv2 [--depth filled]

Streams the 2.8 GB .mat (h5py), maps the 894 classes to the 40 of Gupta et al., uses
the official 795 / 654 split, writes depth as uint16 PNG (metres = value / 5000, 0 =
hole; ``--depth raw`` (default, as the CEN release) or ``filled``). Interrupted? Rerun the
same command: it resumes from ``.OUT.partial``; OUT appears only when complete. See
docs/data.md and ``cen_mm/seg/datasets/official/nyudv2_mat.py``.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))
from cen_mm.seg.datasets.conversion import format_summary  # noqa: E402
from cen_mm.seg.datasets.official.nyudv2_mat import (  # noqa: E402
    DEPTH_SOURCES, convert_nyudv2_mat)
from cen_mm.seg.datasets.official.staging import run_conversion  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Convert the official NYUDv2 labeled .mat (+ 40-class mapping and '
        'splits.mat) into the cen_mm RGB-D layout. Restartable: rerun the same command '
        'after an interruption.')
    parser.add_argument('mat', help='nyu_depth_v2_labeled.mat (MATLAB v7.3)')
    parser.add_argument('--mapping', required=True,
                        help='classMapping40.mat (mapClass) or nyuv2_40class_mapping.mat '
                        '(mapping)')
    parser.add_argument('--splits', required=True,
                        help='splits.mat (trainNdxs, testNdxs; 1-based)')
    parser.add_argument('-o', '--out', required=True, help='output folder (created)')
    parser.add_argument('--depth', choices=tuple(DEPTH_SOURCES), default='raw',
                        help='raw: rawDepths (0 = no measurement, as the CEN release); '
                        'filled: depths (colourisation-filled)')
    parser.add_argument('--overwrite', action='store_true',
                        help='replace an existing output folder')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    return run_conversion(
        lambda: convert_nyudv2_mat(args.mat, args.mapping, args.splits, args.out,
                                   depth=args.depth, overwrite=args.overwrite),
        args.out, format_summary)


if __name__ == '__main__':
    sys.exit(main())
