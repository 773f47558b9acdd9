# CEN with mmseg's UPerNet on a Swin-T encoder, RGB + depth. The encoder is mmseg's own
# SwinTransformer made multi-stream by MultiStreamBackbone: every weight shared by the
# streams, every LayerNorm private per stream, channel exchange on norm1/norm2 of every
# Swin block (the CEN rule on the LayerNorm scale, an extension of the papers; see
# docs/backbones.md). UPerHead and the auxiliary FCNHead are shared by the streams
# with private BN (CENEncoderDecoder head_norms='private'), learned ensemble.
# Architecture, heads and checkpoint: mmseg 1.2.2 configs/_base_/models/upernet_swin.py
# and configs/swin/
# swin-tiny-patch4-window7-in1k-pre_upernet_8xb2-160k_ade20k-512x512.py.
checkpoint = 'https://download.openmmlab.com/mmsegmentation/v0.5/pretrain/swin/swin_tiny_patch4_window7_224_20220317-1cdeb081.pth'  # noqa
norm_cfg = dict(type='BN', requires_grad=True)  # head norms; SyncBN for multi-GPU
model = dict(
    type='CENEncoderDecoder',
    head_norms='private',
    backbone=dict(
        type='MultiStreamBackbone',
        in_channels=(3, 1),
        exchange=True,
        exchange_layers=None,  # family default: r'stages\.\d+\.blocks\.\d+\.norm[12]'
        exchange_threshold=2e-2,  # theta, the papers' segmentation value
        exchange_mode='subpart',
        backbone=dict(
            type='mmseg.SwinTransformer',
            pretrain_img_size=224,
            embed_dims=96,
            patch_size=4,
            window_size=7,
            mlp_ratio=4,
            depths=[2, 2, 6, 2],
            num_heads=[3, 6, 12, 24],
            strides=(4, 2, 2, 2),
            out_indices=(0, 1, 2, 3),
            qkv_bias=True,
            qk_scale=None,
            patch_norm=True,
            drop_rate=0.,
            attn_drop_rate=0.,
            drop_path_rate=0.3,
            use_abs_pos_embed=False,
            act_cfg=dict(type='GELU'),
            norm_cfg=dict(type='LN', requires_grad=True)),
        # The ImageNet checkpoint (converted to mmseg's layout by mmseg's
        # swin2mmseg.py) has the classifier's final `norm.` but none of the four
        # output norms norm0-3 a dense-prediction Swin adds; mmseg loads it
        # non-strictly, which amounts to the same two lists below. Every other key
        # is checked strictly (a key named in the report but not here means the
        # file is not the expected checkpoint).
        init_cfg=dict(type='Pretrained', checkpoint=checkpoint),
        init_missing_ok=(r'norm[0-3]\.', ),
        init_ignore_keys=(r'norm\.', r'stages\.\d+\.blocks\.\d+\.attn_mask')),
    decode_head=dict(
        type='UPerHead',
        in_channels=[96, 192, 384, 768],
        in_index=[0, 1, 2, 3],
        pool_scales=(1, 2, 3, 6),
        channels=512,
        dropout_ratio=0.1,
        num_classes=40,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0,
            avg_non_ignore=True)),
    auxiliary_head=dict(
        type='FCNHead',
        in_channels=384,
        in_index=2,
        channels=256,
        num_convs=1,
        concat_input=False,
        dropout_ratio=0.1,
        num_classes=40,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=0.4,
            avg_non_ignore=True)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole', output='ensemble'))
