# NeurIPS'20 Table 1, row 6: convs shared, BNs unshared, all-channel l1 (every
# channel of every stream penalised) and exchange allowed on all channels (wherever
# |gamma| < theta, no sub-parts). Paper (RefineNet-R101, NYUDv2, single-scale mIoU):
# RGB 48.6, depth 39.0, ensemble 49.8.
_base_ = '../refinenet_r101_nyud.py'
model = dict(backbone=dict(exchange_mode='all'))
# the l1 penalty on the whole gamma of every exchanging BN (Table 1's "all")
custom_hooks = [dict(_base_.custom_hooks[0], penalty_channels='all'),
                _base_.custom_hooks[1]]
