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
import os.path as osp
import sys

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))
from cen_mm.seg.datasets.official.sunrgbd_release import main  # noqa: E402

if __name__ == '__main__':
    sys.exit(main())
