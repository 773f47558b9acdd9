# Supp. Table 7 / TPAMI'23 Table 1: convs unshared, BNs unshared, half-channel l1,
# directed exchange. Paper (RefineNet-R101, NYUDv2, single-scale mIoU): RGB 46.5,
# depth 41.6, ensemble 48.5.
_base_ = '../refinenet_r101_nyud.py'
model = dict(backbone=dict(shared_convs=False))
# custom_hooks: inherited (CENSparsityHook on the sub-parts, ExchangeStatsHook)
