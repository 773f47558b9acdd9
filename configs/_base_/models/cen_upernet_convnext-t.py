# CEN with mmseg's UPerNet on a ConvNeXt-T encoder, RGB + depth. The encoder is
# mmpretrain's ConvNeXt made multi-stream by MultiStreamBackbone: every weight shared
# by the streams, every LayerNorm private per stream, channel exchange on the
# LayerNorm after the depthwise conv of every ConvNeXt block (the CEN rule on the
# LayerNorm scale, an extension of the papers; see docs/backbones.md). UPerHead and
# the auxiliary FCNHead are shared by the streams with private BN
# (CENEncoderDecoder head_norms='private'), learned ensemble.
# Architecture, heads and checkpoint: mmseg 1.2.2
# configs/_base_/models/upernet_convnext.py and configs/convnext/
# convnext-tiny_upernet_8xb2-amp-160k_ade20k-512x512.py.
checkpoint = 'https://download.openmmlab.com/mmclassification/v0/convnext/downstream/convnext-tiny_3rdparty_32xb128-noema_in1k_20220301-795e9634.pth'  # noqa
norm_cfg = dict(type='BN', requires_grad=True)  # head norms; SyncBN for multi-GPU
model = dict(
    type='CENEncoderDecoder',
    head_norms='private',
    backbone=dict(
        type='MultiStreamBackbone',
        in_channels=(3, 1),
        exchange=True,
        exchange_layers=None,  # family default: r'stages\.\d+\.\d+\.norm'
        exchange_threshold=2e-2,  # theta, the papers' segmentation value
        exchange_mode='subpart',
        backbone=dict(
            type='mmpretrain.ConvNeXt',
            arch='tiny',
            out_indices=[0, 1, 2, 3],
            drop_path_rate=0.4,
            layer_scale_init_value=1.0,
            gap_before_final_norm=False),
        # The ImageNet checkpoint (mmpretrain layout: keys under `backbone.`, the
        # `head.` keys outside it are ignored) has the classifier's final norm3
        # only, not the output norms norm0-2 a dense-prediction ConvNeXt adds
        # (mmseg loads it non-strictly); every other key is checked strictly.
        init_cfg=dict(type='Pretrained', checkpoint=checkpoint, prefix='backbone.'),
        init_missing_ok=(r'norm[0-2]\.', )),
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
