# NeurIPS'20 Table 1, row 4: convs shared, BNs unshared, half-channel l1 (each stream's
# own sub-part), no exchange. Paper (RefineNet-R101, NYUDv2, single-scale mIoU):
# RGB 46.0, depth 38.1, ensemble 47.7.
# exchange_threshold=0 keeps the layers marked as exchanging (the hooks find the
# gammas to penalise through them) but never exchanges: a channel is replaced only
# where |gamma| < theta, impossible for theta = 0.
_base_ = '../refinenet_r101_nyud.py'
model = dict(backbone=dict(exchange_threshold=0.0))
# custom_hooks: inherited (CENSparsityHook on the sub-parts, ExchangeStatsHook)
