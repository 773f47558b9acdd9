# CEN + ConvNeXt-B / UPerNet, SUN RGB-D RGB + raw depth, 37 classes. Data:
# _base_/sunrgbd_rgbd_480x480.py (DFormer's SUN RGB-D crops 480x480, scales 0.5-1.75,
# batch 16). Length: 300 epochs (DFormer's SUN RGB-D C.nepochs; 5285 images = 331
# iterations per epoch at batch 16). Optimizer: the optimizer of ConvNeXt's mmseg
# UPerNet recipe (_base_/schedule_upernet_convnext_adamw_500e.py); poly power and warm-
# up of the same recipe (1500 iterations rounded to 5 epochs). Accuracy: not measured
# (not trained yet). theta / lambda: the papers' BN values, not tuned for LayerNorm. Its
# no-exchange baseline: cen_upernet_convnext-b_sunrgbd_rgbd_no-exchange.py.
#   python tools/train.py configs/cen/modern/cen_upernet_convnext-b_sunrgbd_rgbd.py
# Encoder, heads and checkpoint: ../../_base_/models/cen_upernet_convnext-b.py (mmseg
# 1.2.2 convnext-base_upernet_8xb2-amp-160k_ade20k-512x512.py, whose layer-wise lr decay
# uses num_layers=12, set below).
# Schedule (300 epochs): _base_/schedule_upernet_convnext_adamw_300e_sunrgbd.py.
_base_ = [
    '../../_base_/models/cen_upernet_convnext-b.py', './_base_/sunrgbd_rgbd_480x480.py',
    '../../_base_/default_runtime.py',
    './_base_/schedule_upernet_convnext_adamw_300e_sunrgbd.py'
]
model = dict(
    data_preprocessor=_base_.rgbd_data_preprocessor,
    backbone=dict(in_channels=_base_.rgbd_modality_channels),
    decode_head=dict(num_classes=37),
    auxiliary_head=dict(num_classes=37))
# mmseg 1.2.2 convnext-base_upernet_8xb2-amp-160k_ade20k-512x512.py: num_layers 12
# (tiny: 6) in the layer-wise lr decay of _base_/schedule_upernet_convnext_adamw_500e.py
optim_wrapper = dict(paramwise_cfg=dict(num_layers=12))
