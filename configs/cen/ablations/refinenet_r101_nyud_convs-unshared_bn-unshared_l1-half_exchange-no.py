# Supp. Table 7 / TPAMI'23 Table 1: convs unshared, BNs unshared, half-channel l1, no
# exchange. Paper (RefineNet-R101, NYUDv2, single-scale mIoU): RGB 45.1, depth 35.5,
# ensemble 47.3.
# exchange_threshold=0 keeps the layers marked as exchanging (the hooks find the
# gammas to penalise through them) but never exchanges: a channel is replaced only
# where |gamma| < theta, impossible for theta = 0.
_base_ = '../refinenet_r101_nyud.py'
model = dict(backbone=dict(shared_convs=False, exchange_threshold=0.0))
# custom_hooks: inherited (CENSparsityHook on the sub-parts, ExchangeStatsHook)
