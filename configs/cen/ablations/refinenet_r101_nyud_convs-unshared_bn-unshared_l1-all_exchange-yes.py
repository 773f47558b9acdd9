# Supp. Table 7 / TPAMI'23 Table 1: convs unshared, BNs unshared, all-channel l1,
# exchange on all channels. Paper (RefineNet-R101, NYUDv2, single-scale mIoU): RGB 46.8,
# depth 41.7, ensemble 49.1.
_base_ = '../refinenet_r101_nyud.py'
model = dict(backbone=dict(shared_convs=False, exchange_mode='all'))
custom_hooks = [
    dict(type='CENSparsityHook', lambda_=5e-3, mode='subgradient',
         penalty_channels='all', log_interval=20),
    dict(type='ExchangeStatsHook', interval=500, stream_names=['rgb', 'depth'],
         log_per_layer=False),
]
