# CEN with mmseg's UPerNet on a Swin-B encoder, RGB + depth: cen_upernet_swin-t.py with
# the Swin-B architecture, checkpoint and head widths of mmseg 1.2.2
# configs/swin/swin-base-patch4-window7-in1k-pre_upernet_8xb2-160k_ade20k-512x512.py
# (embed_dims 128, depths [2, 2, 18, 2], num_heads [4, 8, 16, 32], window 7, ImageNet-1k
# 224 checkpoint; drop_path_rate 0.3 inherited from the Swin-T config as there).
_base_ = ['./cen_upernet_swin-t.py']
checkpoint = 'https://download.openmmlab.com/mmsegmentation/v0.5/pretrain/swin/swin_base_patch4_window7_224_20220317-e9b98025.pth'  # noqa
model = dict(
    backbone=dict(
        backbone=dict(
            embed_dims=128, depths=[2, 2, 18, 2], num_heads=[4, 8, 16, 32]),
        init_cfg=dict(type='Pretrained', checkpoint=checkpoint)),
    decode_head=dict(in_channels=[128, 256, 512, 1024]),
    auxiliary_head=dict(in_channels=512))
