# CEN + MiT-B5 / SegFormer head, SUN RGB-D RGB + raw depth, 37 classes. Data:
# _base_/sunrgbd_rgbd_480x480.py (DFormer's SUN RGB-D crops 480x480, scales 0.5-1.75,
# batch 16). Length: 300 epochs (DFormer's SUN RGB-D C.nepochs; 5285 images = 331
# iterations per epoch at batch 16). Optimizer: the CMX optimizer for MiT on NYUDv2
# (AdamW 6e-5, wd 0.01; CMX's SUN RGB-D config could not be read, DFormer's SUN RGB-D lr
# 8e-5 is for its own encoder) (_base_/schedule_cmx_adamw_500e.py); 10-epoch warm-up and
# poly 0.9 (DFormer's C.warm_up_epoch, C.lr_power, as CMX's). Accuracy: not measured
# (not trained yet). theta / lambda: the papers' BN values, not tuned for LayerNorm. Its
# no-exchange baseline: cen_segformer_mit-b5_sunrgbd_rgbd_no-exchange.py.
#   python tools/train.py configs/cen/modern/cen_segformer_mit-b5_sunrgbd_rgbd.py
# Encoder, head and checkpoint: ../../_base_/models/cen_segformer_mit-b5.py (mmseg
# 1.2.2 segformer_mit-b5_8xb2-160k_ade20k-512x512.py). The recipe is the MiT-B2 one: no
# MiT-B5 SUN RGB-D recipe of CMX or DFormer could be read.
# Schedule (300 epochs): _base_/schedule_cmx_adamw_300e_sunrgbd.py.
_base_ = [
    '../../_base_/models/cen_segformer_mit-b5.py', './_base_/sunrgbd_rgbd_480x480.py',
    '../../_base_/default_runtime.py',
    './_base_/schedule_cmx_adamw_300e_sunrgbd.py'
]
model = dict(
    data_preprocessor=_base_.rgbd_data_preprocessor,
    backbone=dict(in_channels=_base_.rgbd_modality_channels),
    decode_head=dict(num_classes=37))
