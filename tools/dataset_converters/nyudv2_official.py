"""Convert the official NYUDv2 labeled release into the cen_mm RGB-D layout.

    python tools/dataset_converters/nyudv2_official.py nyu_depth_v2_labeled.mat \
        --mapping classMapping40.mat --splits splits.mat -o data/nyudv2 [--depth filled]

Streams the 2.8 GB .mat (h5py), maps the 894 classes to the 40 of Gupta et al., uses
the official 795 / 654 split, writes depth as uint16 PNG (metres = value / 5000, 0 =
hole; ``--depth raw`` (default, as the CEN release) or ``filled``). Interrupted? Rerun the
same command: it resumes from ``.OUT.partial``; OUT appears only when complete. See
docs/data.md and ``cen_mm/seg/datasets/official/nyudv2_mat.py``.
"""
import os.path as osp
import sys

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))
from cen_mm.seg.datasets.official.nyudv2_mat import main  # noqa: E402

if __name__ == '__main__':
    sys.exit(main())
