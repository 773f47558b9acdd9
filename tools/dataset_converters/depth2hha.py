"""Compute HHA (Gupta et al., ECCV 2014) for a converted RGB-D dataset.

    python tools/dataset_converters/depth2hha.py data/nyudv2 [--nproc 4]
    python tools/dataset_converters/depth2hha.py data/sunrgbd --nproc 4
    python tools/dataset_converters/depth2hha.py DATA --intrinsics FX FY CX CY

Writes ``DATA/hha/{train,test}/NAME.png`` (8-bit; R, G, B = horizontal disparity,
height above ground in cm, normal angle to gravity + 38) and adds ``hha`` to
``meta.json``; train on it with ``configs/_base_/datasets/nyud_rgbd_hha.py`` /
``sunrgbd_rgbd_hha.py``. Intrinsics: ``--intrinsics``, else ``camera.json`` (written by
``sunrgbd_official.py``), else built in (NYUDv2 Kinect; SUN RGB-D per sensor).
Restartable; ``hha/`` appears only when complete. See docs/data.md.
"""
import os.path as osp
import sys

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))
from cen_mm.seg.datasets.official.hha_folder import main  # noqa: E402

if __name__ == '__main__':
    sys.exit(main())
