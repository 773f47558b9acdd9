# CEN with mmseg's UPerNet on a ConvNeXt-B encoder (mmpretrain), RGB + depth:
# cen_upernet_convnext-t.py with the ConvNeXt-B architecture, checkpoint and head
# widths of mmseg 1.2.2 configs/_base_/models/upernet_convnext.py (arch 'base',
# drop_path_rate 0.4, ImageNet-1k checkpoint) and
# configs/convnext/convnext-base_upernet_8xb2-amp-160k_ade20k-512x512.py (head
# in_channels [128, 256, 512, 1024], auxiliary 512).
_base_ = ['./cen_upernet_convnext-t.py']
checkpoint = 'https://download.openmmlab.com/mmclassification/v0/convnext/downstream/convnext-base_3rdparty_32xb128-noema_in1k_20220301-2a0ee547.pth'  # noqa
model = dict(
    backbone=dict(
        backbone=dict(arch='base'),
        init_cfg=dict(
            type='Pretrained', checkpoint=checkpoint, prefix='backbone.')),
    decode_head=dict(in_channels=[128, 256, 512, 1024]),
    auxiliary_head=dict(in_channels=512))
