# NeurIPS'20 Table 1, row 1 (= supp. Table 7 / TPAMI'23 Table 1): convs unshared, BNs
# unshared, no l1, no exchange. Paper (RefineNet-R101, NYUDv2, single-scale mIoU):
# RGB 45.5, depth 35.8, ensemble 47.6.
_base_ = '../refinenet_r101_nyud.py'
# Unshared = separate networks per modality, decoder included (NeurIPS'20 Table 1
# row 1 = the uni-modal baselines of Table 2, 118.1M parameters each): private
# encoder convs and BNs (shared_convs=False) and one RefineNet decoder per stream
# (shared_heads=False); the learned ensemble combines their predictions.
model = dict(
    backbone=dict(shared_convs=False, exchange=False), shared_heads=False)
custom_hooks = []  # no l1 penalty, nothing exchanges
