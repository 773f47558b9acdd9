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

The conversion itself is ``cen_mm.seg.datasets.conversion.convert``; the command line
is ``cen_mm.seg.datasets.converter_cli``.
"""
import os.path as osp
import sys

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))
from cen_mm.seg.datasets.conversion import NYUDV2_SPEC  # noqa: E402
from cen_mm.seg.datasets.converter_cli import converter_main  # noqa: E402


def main(argv=None) -> int:
    """Flags, messages and exit status: ``cen_mm.seg.datasets.converter_cli``."""
    return converter_main(NYUDV2_SPEC, argv)


if __name__ == '__main__':
    sys.exit(main())
