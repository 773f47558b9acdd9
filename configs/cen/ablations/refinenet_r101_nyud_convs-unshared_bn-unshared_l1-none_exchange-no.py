# NeurIPS'20 Table 1, row 1 (= supp. Table 7 / TPAMI'23 Table 1): convs unshared, BNs
# unshared, no l1, no exchange. Paper (RefineNet-R101, NYUDv2, single-scale mIoU):
# RGB 45.5, depth 35.8, ensemble 47.6.
# Each stream has its own encoder (private convs and BNs); the RefineNet decoder is
# shared, as in every row of the table.
_base_ = '../refinenet_r101_nyud.py'
model = dict(backbone=dict(shared_convs=False, exchange=False))
custom_hooks = []  # no l1 penalty, nothing exchanges
