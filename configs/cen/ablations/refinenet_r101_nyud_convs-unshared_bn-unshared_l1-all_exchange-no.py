# Supp. Table 7 / TPAMI'23 Table 1: convs unshared, BNs unshared, all-channel l1, no
# exchange. Paper (RefineNet-R101, NYUDv2, single-scale mIoU): RGB 44.6, depth 35.3,
# ensemble 46.6.
# exchange_threshold=0 keeps the layers marked as exchanging (the hooks find the
# gammas to penalise through them) but never exchanges: a channel is replaced only
# where |gamma| < theta, impossible for theta = 0.
_base_ = '../refinenet_r101_nyud.py'
# Unshared = separate networks per modality, decoder included (NeurIPS'20 Table 1
# row 1 = the uni-modal baselines of Table 2, 118.1M parameters each): private
# encoder convs and BNs (shared_convs=False) and one RefineNet decoder per stream
# (shared_heads=False); the learned ensemble combines their predictions.
model = dict(
    backbone=dict(shared_convs=False, exchange_threshold=0.0), shared_heads=False)
# the l1 penalty on the whole gamma of every exchanging BN (Table 1's "all")
custom_hooks = [dict(_base_.custom_hooks[0], penalty_channels='all'),
                _base_.custom_hooks[1]]
