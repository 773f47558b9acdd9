# CEN (NeurIPS'20) RGB-D semantic segmentation: CENResNet-101 encoder (shared convs,
# private BN, channel exchange in the BN after every 3x3 conv) + the light-weight
# RefineNet decoder of the official code, shared by the streams; every stream predicts
# and a learned ensemble (softmax(alpha)-weighted) combines them.
#
# Inputs: RGB (3 channels, RGB order, 0..255) and raw depth in metres (1 channel, as
# the official code: 16-bit PNG / 5000, tiled to 3 channels inside the backbone),
# stacked along channels by the data pipeline.
# Not here, but in the full configs (configs/cen/): `model.data_preprocessor` (the
# dataset base's `rgbd_data_preprocessor`: per-channel mean/std and crop size depend
# on the data), `backbone.in_channels` (the dataset base's `rgbd_modality_channels`),
# num_classes (here a 40-class placeholder) and the CEN hooks (`CENSparsityHook`,
# lambda = 5e-3 in the papers; `ExchangeStatsHook`) in `custom_hooks`.
#
# Loading an official CEN checkpoint (tools/model_converters/cen2mmseg.py): the
# official code exchanges wherever |gamma| < theta, so test it with
#   --cfg-options model.backbone.exchange_mode=all
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    type='CENEncoderDecoder',
    backbone=dict(
        type='CENResNet',
        depth=101,
        in_channels=(3, 1),
        strides=(1, 2, 2, 2),
        dilations=(1, 1, 1, 1),
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
        type='RefineNetHead',
        in_channels=(256, 512, 1024, 2048),
        in_index=(0, 1, 2, 3),
        stage_channels=(512, 256, 256, 256),
        dropout_ratio=0.5,
        num_classes=40,
        align_corners=False,
        # official: NLL over the non-ignored pixels
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0,
            avg_non_ignore=True)),
    train_cfg=dict(),
    # output='ensemble' (default) or a stream index (0: RGB, 1: depth)
    test_cfg=dict(mode='whole', output='ensemble'))
