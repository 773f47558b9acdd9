# The optimizer of Swin's own UPerNet recipe in mmseg 1.2.2
# (configs/swin/swin-tiny-patch4-window7-in1k-pre_upernet_8xb2-160k_ade20k-512x512.py,
# the Swin-B config inherits it unchanged: AdamW lr 6e-5, betas (0.9, 0.999), weight
# decay 0.01, none on position tables and norms, 1500-iteration linear warm-up from
# 1e-6, poly decay with power 1.0), over the NYUDv2 length and loops of CMX
# (schedule_cmx_adamw_500e.py: 500 epochs at batch 8 = 100 iterations per epoch).
_base_ = ['./schedule_cmx_adamw_500e.py']
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=6e-5, betas=(0.9, 0.999), weight_decay=0.01),
    paramwise_cfg=dict(
        custom_keys={
            'absolute_pos_embed': dict(decay_mult=0.),
            'relative_position_bias_table': dict(decay_mult=0.),
            'norm': dict(decay_mult=0.)
        }))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0, end=1500),
    dict(type='PolyLR', power=1.0, eta_min=0.0, by_epoch=True, begin=15, end=500,
         convert_to_iter_based=True),  # 1500 iterations = 15 epochs at batch 8
]
