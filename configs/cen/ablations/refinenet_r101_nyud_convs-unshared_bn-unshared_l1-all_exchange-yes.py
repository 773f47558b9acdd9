# Supp. Table 7 / TPAMI'23 Table 1: convs unshared, BNs unshared, all-channel l1,
# exchange on all channels. Paper (RefineNet-R101, NYUDv2, single-scale mIoU): RGB 46.8,
# depth 41.7, ensemble 49.1.
_base_ = '../refinenet_r101_nyud.py'
# Unshared = separate networks per modality, decoder included (NeurIPS'20 Table 1
# row 1 = the uni-modal baselines of Table 2, 118.1M parameters each): private
# encoder convs and BNs (shared_convs=False) and one RefineNet decoder per stream
# (shared_heads=False); the learned ensemble combines their predictions.
model = dict(
    backbone=dict(shared_convs=False, exchange_mode='all'), shared_heads=False)
custom_hooks = [
    dict(type='CENSparsityHook', lambda_=5e-3, mode='subgradient',
         penalty_channels='all', log_interval=20),
    dict(type='ExchangeStatsHook', interval=500, stream_names=['rgb', 'depth'],
         log_per_layer=False),
]
