# Supp. Table 7 / TPAMI'23 Table 1: convs unshared, BNs unshared, half-channel l1,
# directed exchange. Paper (RefineNet-R101, NYUDv2, single-scale mIoU): RGB 46.5,
# depth 41.6, ensemble 48.5.
_base_ = '../refinenet_r101_nyud.py'
# Unshared = separate networks per modality, decoder included (NeurIPS'20 Table 1
# row 1 = the uni-modal baselines of Table 2, 118.1M parameters each): private
# encoder convs and BNs (shared_convs=False) and one RefineNet decoder per stream
# (shared_heads=False); the learned ensemble combines their predictions.
model = dict(
    backbone=dict(shared_convs=False), shared_heads=False)
# custom_hooks: inherited (CENSparsityHook on the sub-parts, ExchangeStatsHook)
