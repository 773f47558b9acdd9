_base_ = ['../cen-pix2pix_fusion_depth+normal-to-rgb_taskonomy.py']

# TPAMI'23 Table 13, w/o dividing channels into M sub-parts (depth+normal -> rgb): every
# stream's l1 penalty on all its channels (penalty_channels='all') and the exchange test
# |gamma| < theta on all channels (exchange_mode='all'). Paper (ensemble FID / KID
# x100): 87.63 / 3.49 (with sub-parts: 84.33 / 2.70).
model = dict(generator=dict(exchange_mode='all'))
custom_hooks = [
    dict(type='CENSparsityHook', lambda_=1e-3, penalty_channels='all'),
    dict(type='ExchangeStatsHook', interval=1000),
]
