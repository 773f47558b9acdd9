# CEN + Swin-B / UPerNet, SUN RGB-D RGB + HHA, 37 classes. Data:
# _base_/sunrgbd_rgbhha_480x480.py (DFormer's SUN RGB-D crops 480x480, scales 0.5-1.75,
# batch 16). Length: 300 epochs (DFormer's SUN RGB-D C.nepochs; 5285 images = 331
# iterations per epoch at batch 16). Optimizer: the optimizer of Swin's mmseg UPerNet
# recipe (_base_/schedule_upernet_swin_adamw_500e.py); poly power and warm-up of the
# same recipe (1500 iterations rounded to 5 epochs). Accuracy: not measured (not trained
# yet). theta / lambda: the papers' BN values, not tuned for LayerNorm. Its no-exchange
# baseline: cen_upernet_swin-b_sunrgbd_rgbhha_no-exchange.py.
#   python tools/train.py configs/cen/modern/cen_upernet_swin-b_sunrgbd_rgbhha.py
# Encoder, heads and checkpoint: ../../_base_/models/cen_upernet_swin-b.py (mmseg 1.2.2
# swin-base-patch4-window7-in1k-pre_upernet_8xb2-160k_ade20k-512x512.py; mmseg uses the
# same optimizer for Swin-T and -B).
# Schedule (300 epochs): _base_/schedule_upernet_swin_adamw_300e_sunrgbd.py.
_base_ = [
    '../../_base_/models/cen_upernet_swin-b.py', './_base_/sunrgbd_rgbhha_480x480.py',
    '../../_base_/default_runtime.py',
    './_base_/schedule_upernet_swin_adamw_300e_sunrgbd.py'
]
model = dict(
    data_preprocessor=_base_.rgbd_data_preprocessor,
    backbone=dict(in_channels=_base_.rgbd_modality_channels),
    decode_head=dict(num_classes=37),
    auxiliary_head=dict(num_classes=37))
