"""Convert a SUN RGB-D download into the cen_mm RGB-D layout.

    python tools/dataset_converters/sunrgbd.py SRC -o data/sunrgbd [--nproc N]

Accepted layout: the CMX / DFormer release of SUN RGB-D: ``RGB/``, ``Depth/`` and/or
``HHA/``, ``Label/`` or ``labels/`` (0 = unlabelled, 1..37) and ``train.txt`` /
``test.txt`` (one sample per line: ``NAME`` or ``RGB/NAME.jpg``).

Depth: uint16 maps in SUN RGB-D's own encoding (bits rotated by 3, millimetres) are
kept as they are and decoded by the loader; uint16 maps whose low 3 bits are not zero are
taken as plain millimetres; 8-bit maps (DFormer) are relative depth (value / 255). Use
``--depth-encoding`` / ``--depth-scale`` to override. The official split has 5285 train /
5050 test images; a smaller source is converted as listed and reported as a subset.

The conversion itself is ``cen_mm.seg.datasets.conversion.convert``.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))
from cen_mm.seg.datasets.conversion import (  # noqa: E402
    SUNRGBD_SPEC, ConversionError, convert, format_summary)
from cen_mm.utils.progress import sigterm_as_exit  # noqa: E402

SPEC = SUNRGBD_SPEC

def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=f'Convert {SPEC.display_name} into the cen_mm RGB-D layout '
        f'(layouts: {", ".join(SPEC.layouts)}).')
    parser.add_argument('src', help='the downloaded dataset folder')
    parser.add_argument('-o', '--out', required=True, help='output folder (created)')
    parser.add_argument('--layout', default='auto', choices=('auto', ) + SPEC.layouts)
    parser.add_argument('--train-list', help='list of training samples (layout format)')
    parser.add_argument('--test-list', help='list of test samples (layout format)')
    parser.add_argument('--depth-encoding', default='auto',
                        choices=('auto', 'linear', 'sunrgbd'),
                        help='how stored depth maps to metres (auto: by dataset, dtype)')
    parser.add_argument('--depth-scale', type=float,
                        help='metres per stored unit for --depth-encoding linear')
    parser.add_argument('--overwrite', action='store_true',
                        help='replace an existing output folder')
    parser.add_argument('--nproc', type=int, default=1, help='worker processes')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    # SIGTERM (kill, job schedulers) unwinds like Ctrl-C: the temporary output is
    # removed and the --nproc workers are terminated.
    try:
        with sigterm_as_exit():
            summary = convert(args.src, args.out, SPEC, layout=args.layout,
                              train_list=args.train_list, test_list=args.test_list,
                              depth_encoding=args.depth_encoding,
                              depth_scale=args.depth_scale, overwrite=args.overwrite,
                              nproc=args.nproc)
    except ConversionError as err:
        print(f'error: {err}', file=sys.stderr)
        print(f'nothing was written to {args.out}', file=sys.stderr)
        return 1
    print(format_summary(summary))
    return 0


if __name__ == '__main__':
    sys.exit(main())
