# NeurIPS'20 Table 1, row 6: convs shared, BNs unshared, all-channel l1 (every
# channel of every stream penalised) and exchange allowed on all channels (wherever
# |gamma| < theta, no sub-parts). Paper (RefineNet-R101, NYUDv2, single-scale mIoU):
# RGB 48.6, depth 39.0, ensemble 49.8.
_base_ = '../refinenet_r101_nyud.py'
model = dict(backbone=dict(exchange_mode='all'))
custom_hooks = [
    dict(type='CENSparsityHook', lambda_=5e-3, mode='subgradient',
         penalty_channels='all', log_interval=20),
    dict(type='ExchangeStatsHook', interval=500, stream_names=['rgb', 'depth'],
         log_per_layer=False),
]
