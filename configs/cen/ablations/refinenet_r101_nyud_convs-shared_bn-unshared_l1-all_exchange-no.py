# Supp. Table 7 / TPAMI'23 Table 1: convs shared, BNs unshared, all-channel l1, no
# exchange. Paper (RefineNet-R101, NYUDv2, single-scale mIoU): RGB 46.1, depth 37.9,
# ensemble 47.5.
# exchange_threshold=0 keeps the layers marked as exchanging (the hooks find the
# gammas to penalise through them) but never exchanges: a channel is replaced only
# where |gamma| < theta, impossible for theta = 0.
_base_ = '../refinenet_r101_nyud.py'
model = dict(backbone=dict(exchange_threshold=0.0))
custom_hooks = [
    dict(type='CENSparsityHook', lambda_=5e-3, mode='subgradient',
         penalty_channels='all', log_interval=20),
    dict(type='ExchangeStatsHook', interval=500, stream_names=['rgb', 'depth'],
         log_per_layer=False),
]
