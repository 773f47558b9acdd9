# The optimizer of ConvNeXt's own UPerNet recipe in mmseg 1.2.2
# (configs/convnext/convnext-tiny_upernet_8xb2-amp-160k_ade20k-512x512.py and
# convnext-base_upernet_8xb2-amp-160k_ade20k-512x512.py: AdamW lr 1e-4, betas
# (0.9, 0.999), weight decay 0.05, 1500-iteration linear warm-up from 1e-6, poly decay
# with power 1.0), over the NYUDv2 length and loops of CMX
# (schedule_cmx_adamw_500e.py: 500 epochs at batch 8 = 100 iterations per epoch).
# Differences from that recipe: no layer-wise lr decay (mmseg's
# LearningRateDecayOptimizerConstructor recognises a bare ConvNeXt backbone only, not
# one wrapped in MultiStreamBackbone) and no AMP by default (add --amp).
_base_ = ['./schedule_cmx_adamw_500e.py']
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.05))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0, end=1500),
    dict(type='PolyLR', power=1.0, eta_min=0.0, by_epoch=True, begin=15, end=500,
         convert_to_iter_based=True),  # 1500 iterations = 15 epochs at batch 8
]
