# NeurIPS'20 Table 1, row 5 = full CEN: convs shared, BNs unshared, half-channel l1,
# directed exchange within the sub-parts. Paper (RefineNet-R101, NYUDv2, single-scale
# mIoU): RGB 49.7, depth 45.1, ensemble 51.1. Identical to
# ../refinenet_r101_nyud.py; kept so that every row of the table has a config.
_base_ = '../refinenet_r101_nyud.py'
