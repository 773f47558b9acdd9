# Supp. Table 7 / TPAMI'23 Table 1: convs shared, BNs unshared, all-channel l1, no
# exchange. Paper (RefineNet-R101, NYUDv2, single-scale mIoU): RGB 46.1, depth 37.9,
# ensemble 47.5.
# exchange_threshold=0 keeps the layers marked as exchanging (the hooks find the
# gammas to penalise through them) but never exchanges: a channel is replaced only
# where |gamma| < theta, impossible for theta = 0.
_base_ = '../refinenet_r101_nyud.py'
model = dict(backbone=dict(exchange_threshold=0.0))
# the l1 penalty on the whole gamma of every exchanging BN (Table 1's "all")
custom_hooks = [dict(_base_.custom_hooks[0], penalty_channels='all'),
                _base_.custom_hooks[1]]
