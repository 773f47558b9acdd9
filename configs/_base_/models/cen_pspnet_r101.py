# CEN with PSPNet (NeurIPS'20 Table 3): dilated (D8) CENResNet-101 encoder, mmseg's
# PSPHead and an auxiliary FCNHead on stage 3; every stream predicts (and gets the
# auxiliary loss), a learned ensemble combines them. Inputs, and what the full configs
# add (data preprocessor, num_classes, hooks), as in cen_refinenet_r101.py.
#
# Heads as the encoder (the papers share everything except the norm layers): convs
# shared by the streams, BN private per stream. CENEncoderDecoder(head_norms='private',
# its default) builds every head norm from `norm_cfg` below as one BN per stream
# (PrivateStreamNorm): each stream's BN collects its own batch and running statistics.
# model.head_norms='shared' gives the previous behaviour (one BN over both streams'
# samples). The official code has no PSPNet; the papers give no head details beyond
# "PSPNet [73]", so the head is mmseg's PSPNet head (pool scales 1, 2, 3, 6,
# auxiliary FCN head with weight 0.4).
# Per-stream head BN statistics need >= 2 samples per stream and process in training
# (the pool-scale-1 branch is 1x1): batch 6 as the papers.
# For multi-GPU training mmseg uses SyncBN in the heads: set
# model.decode_head.norm_cfg.type=SyncBN (and auxiliary_head) in the full config.
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    type='CENEncoderDecoder',
    head_norms='private',
    backbone=dict(
        type='CENResNet',
        depth=101,
        in_channels=(3, 1),
        strides=(1, 2, 1, 1),
        dilations=(1, 1, 2, 4),
        contract_dilation=True,  # as mmseg's PSPNet (D8)
        out_indices=(0, 1, 2, 3),
        norm_cfg=norm_cfg,
        # BN statistics frozen, gamma/beta trained (papers). Needs pretrained BN
        # statistics: with init_cfg=None set norm_eval=False (frozen initial 0/1
        # statistics do not normalise; the loss diverges within a few steps).
        norm_eval=True,
        exchange=True,
        exchange_threshold=2e-2,  # theta
        exchange_mode='subpart',  # papers; 'all' = official code
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet101')),
    decode_head=dict(
        type='PSPHead',
        in_channels=2048,
        in_index=3,
        channels=512,
        pool_scales=(1, 2, 3, 6),
        dropout_ratio=0.1,
        num_classes=40,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0,
            avg_non_ignore=True)),
    auxiliary_head=dict(
        type='FCNHead',
        in_channels=1024,
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
    # output='ensemble' (default) or a stream index (0: RGB, 1: depth)
    test_cfg=dict(mode='whole', output='ensemble'))
