# The optimizer of ConvNeXt's own UPerNet recipe in mmseg 1.2.2
# (configs/convnext/convnext-tiny_upernet_8xb2-amp-160k_ade20k-512x512.py and
# convnext-base_upernet_8xb2-amp-160k_ade20k-512x512.py: AdamW lr 1e-4, betas
# (0.9, 0.999), weight decay 0.05, layer-wise lr decay with paramwise_cfg decay_rate
# 0.9, decay_type 'stage_wise', num_layers 6 (tiny; base: 12, set in the -B configs),
# 1500-iteration linear warm-up from 1e-6, poly decay with power 1.0), over the NYUDv2
# length and loops of CMX (schedule_cmx_adamw_500e.py: 500 epochs at batch 8 = 100
# iterations per epoch). The lr decay is mmseg's LearningRateDecayOptimizerConstructor
# through MultiStreamLayerDecayOptimizerConstructor (cen_mm/engine/optimizers/
# layer_decay_constructor.py: the same layer ids for the parameters inside
# MultiStreamBackbone; every stream's private norm gets its layer's lr). It puts no
# weight decay on 1-D parameters (norms, biases, layer scales), as mmseg's recipe.
# Difference from that recipe: no AMP by default (add --amp).
_base_ = ['./schedule_cmx_adamw_500e.py']
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.05),
    constructor='MultiStreamLayerDecayOptimizerConstructor',
    paramwise_cfg=dict(decay_rate=0.9, decay_type='stage_wise', num_layers=6))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0, end=1500),
    dict(type='PolyLR', power=1.0, eta_min=0.0, by_epoch=True, begin=15, end=500,
         convert_to_iter_based=True),  # 1500 iterations = 15 epochs at batch 8
]
