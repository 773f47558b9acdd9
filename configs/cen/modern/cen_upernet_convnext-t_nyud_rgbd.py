# CEN + UPerNet on ConvNeXt-T (mmpretrain), NYUDv2 RGB + raw depth (40 classes).
# Channel exchange on the LayerNorm after the depthwise conv of every ConvNeXt block
# (docs/backbones.md). Its no-exchange baseline:
# cen_upernet_convnext-t_nyud_rgbd_no-exchange.py.
#   python tools/train.py configs/cen/modern/cen_upernet_convnext-t_nyud_rgbd.py
# Recipe: the optimizer of ConvNeXt's own UPerNet recipe in mmseg 1.2.2
# (configs/convnext/convnext-tiny_upernet_8xb2-amp-160k_ade20k-512x512.py: AdamW
# lr 1e-4, betas (0.9, 0.999), weight decay 0.05, 1500-iteration linear warm-up from
# 1e-6, poly decay with power 1.0), over the NYUDv2 length, batch and crops of CMX
# (_base_/schedule_cmx_adamw_500e.py, _base_/nyud_rgbd_480x640.py: 500 epochs,
# batch 8, 480x640). Differences from that recipe: no layer-wise lr decay (mmseg's
# LearningRateDecayOptimizerConstructor recognises a bare ConvNeXt backbone only, not
# one wrapped in MultiStreamBackbone) and no AMP by default (add --amp).
# Accuracy: not measured (not trained yet). theta / lambda: the papers' BN values, not
# tuned for LayerNorm (see cen_segformer_mit-b2_nyud_rgbd.py).
_base_ = [
    '../../_base_/models/cen_upernet_convnext-t.py', './_base_/nyud_rgbd_480x640.py',
    '../../_base_/default_runtime.py', './_base_/schedule_cmx_adamw_500e.py'
]
model = dict(
    data_preprocessor=_base_.rgbd_data_preprocessor,
    backbone=dict(in_channels=_base_.rgbd_modality_channels),
    decode_head=dict(num_classes=40),
    auxiliary_head=dict(num_classes=40))
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.05))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0, end=1500),
    dict(type='PolyLR', power=1.0, eta_min=0.0, by_epoch=True, begin=15, end=500,
         convert_to_iter_based=True),  # 1500 iterations = 15 epochs at batch 8
]
