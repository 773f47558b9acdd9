"""Convert a NYUDv2 download into the cen_mm RGB-D layout.

    python tools/dataset_converters/nyud.py SRC -o data/nyudv2 [--overwrite] [--nproc N]

Accepted layouts (detected from SRC's folders):

* the official CEN / light-weight RefineNet release: ``rgb/``, ``depth/`` (uint16,
  metres = value / 5000), ``masks/`` (0..39, 255 = unlabelled) and tab-separated lists
  ``rgb/X.png<TAB>masks/X.png<TAB>depth/X.png`` (``train.txt`` + ``val.txt``, else
  ``meta/cen_train_full.txt`` + ``meta/cen_val_full.txt``; or ``--train-list`` /
  ``--test-list``);
* the CMX / DFormer release: ``RGB/``, ``Depth/`` and/or ``HHA/``, ``Label/`` (0 =
  unlabelled, 1..40) and ``train.txt`` / ``test.txt``.

The official split has 795 train / 654 test images; a smaller source is converted as
listed and the summary says it is a subset. Output: ``images/``, ``depth/`` (``hha/``),
``annotations/`` with ``train/`` and ``test/``, list files and ``meta.json``; written to a
temporary folder and renamed to OUT only when complete.

The conversion itself is ``cen_mm.seg.datasets.conversion.convert``.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))
from cen_mm.seg.datasets.conversion import (  # noqa: E402
    NYUDV2_SPEC, ConversionError, convert, format_summary)
from cen_mm.utils.progress import sigterm_as_exit  # noqa: E402

SPEC = NYUDV2_SPEC

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
