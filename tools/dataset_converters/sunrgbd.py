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

The conversion itself is ``cen_mm.seg.datasets.conversion.convert``; the command line
is ``cen_mm.seg.datasets.converter_cli``.
"""
import os.path as osp
import sys

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))
from cen_mm.seg.datasets.conversion import SUNRGBD_SPEC  # noqa: E402
from cen_mm.seg.datasets.converter_cli import converter_main  # noqa: E402


def main(argv=None) -> int:
    """Flags, messages and exit status: ``cen_mm.seg.datasets.converter_cli``."""
    return converter_main(SUNRGBD_SPEC, argv)


if __name__ == '__main__':
    sys.exit(main())
