# CEN + UPerNet on ConvNeXt-B, NYUDv2 RGB + raw depth, 40 classes. Channel exchange on
# the LayerNorm after the depthwise conv of every ConvNeXt block (docs/backbones.md).
# Its no-exchange baseline: cen_upernet_convnext-b_nyud_rgbd_no-exchange.py.
#   python tools/train.py configs/cen/modern/cen_upernet_convnext-b_nyud_rgbd.py
# Recipe: _base_/schedule_upernet_convnext_adamw_500e.py (optimizer of the backbone's
# own mmseg UPerNet recipe) with the NYUDv2 length, batch and crops of CMX
# (_base_/schedule_cmx_adamw_500e.py, _base_/nyud_rgbd_480x640.py: 500 epochs, batch 8,
# 480x640); every number is cited in those files. Accuracy: not measured (not trained
# yet). theta / lambda: the papers' BN values, not tuned for LayerNorm (see
# cen_segformer_mit-b2_nyud_rgbd.py).
_base_ = [
    '../../_base_/models/cen_upernet_convnext-b.py', './_base_/nyud_rgbd_480x640.py',
    '../../_base_/default_runtime.py',
    './_base_/schedule_upernet_convnext_adamw_500e.py'
]
model = dict(
    data_preprocessor=_base_.rgbd_data_preprocessor,
    backbone=dict(in_channels=_base_.rgbd_modality_channels),
    decode_head=dict(num_classes=40),
    auxiliary_head=dict(num_classes=40))
# mmseg 1.2.2 convnext-base_upernet_8xb2-amp-160k_ade20k-512x512.py: num_layers 12
# (tiny: 6) in the layer-wise lr decay of _base_/schedule_upernet_convnext_adamw_500e.py
optim_wrapper = dict(paramwise_cfg=dict(num_layers=12))
