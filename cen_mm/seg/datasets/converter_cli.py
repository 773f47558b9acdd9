"""The command line shared by the RGB-D dataset converters of prepared releases.

``tools/dataset_converters/nyud.py`` and ``sunrgbd.py`` are thin: each passes its
:class:`~cen_mm.seg.datasets.conversion.DatasetSpec` to :func:`converter_main`, which
parses the flags, runs :func:`~cen_mm.seg.datasets.conversion.convert` and reports.
Exit status: 0 with the summary table on stdout; 1 with one ``error: ...`` line (and
``nothing was written to OUT``) on stderr when the input is refused.
"""
import argparse
import sys
from typing import Optional, Sequence

from cen_mm.utils.progress import sigterm_as_exit
from .conversion import ConversionError, convert, format_summary


def build_converter_parser(spec) -> argparse.ArgumentParser:
    """The argument parser of a converter for ``spec`` (a ``DatasetSpec``)."""
    parser = argparse.ArgumentParser(
        description=f'Convert {spec.display_name} into the cen_mm RGB-D layout '
        f'(layouts: {", ".join(spec.layouts)}).')
    parser.add_argument('src', help='the downloaded dataset folder')
    parser.add_argument('-o', '--out', required=True, help='output folder (created)')
    parser.add_argument('--layout', default='auto', choices=('auto', ) + spec.layouts)
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
    return parser


def converter_main(spec, argv: Optional[Sequence[str]] = None) -> int:
    """Parse ``argv`` (default ``sys.argv[1:]``), convert, report; returns the exit
    status (0 done, 1 input refused)."""
    args = build_converter_parser(spec).parse_args(argv)
    # SIGTERM (kill, job schedulers) unwinds like Ctrl-C: the temporary output is
    # removed and the --nproc workers are terminated.
    try:
        with sigterm_as_exit():
            summary = convert(args.src, args.out, spec, layout=args.layout,
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
