"""Converters from the datasets' own public releases, and the HHA folder writer.

* ``nyudv2_mat``: NYUDv2 from ``nyu_depth_v2_labeled.mat`` + 40-class mapping +
  ``splits.mat`` (``tools/dataset_converters/nyudv2_official.py``).
* ``sunrgbd_release``: SUN RGB-D from ``SUNRGBD/`` + ``SUNRGBDtoolbox/``
  (``tools/dataset_converters/sunrgbd_official.py``).
* ``hha_folder``: ``hha/`` for a converted dataset (``depth2hha.py``).
* ``staging``: the restartable, atomic output folder they share; ``matfile``: reading
  MATLAB v5/v7 and v7.3 files.

Output: the layout of ``RGBDSegDataset`` (see ``conversion.py``). Imported on demand
(needs h5py); importing ``cen_mm`` does not import this package.
"""
