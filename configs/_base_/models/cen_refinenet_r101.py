# CEN (NeurIPS'20) RGB-D semantic segmentation: CENResNet-101 encoder (shared convs,
# private BN, channel exchange in the BN after every 3x3 conv) + the light-weight
# RefineNet decoder of the official code, shared by the streams; every stream predicts
# and a learned ensemble (softmax(alpha)-weighted) combines them.
#
# Inputs: RGB (3 channels, RGB order, 0..255) and raw depth in metres (1 channel, as
# the official code: 16-bit PNG / 5000, tiled to 3 channels inside the backbone),
# stacked along channels by the data pipeline. RGB is normalised with ImageNet
# mean/std; depth is fed as is (mean 0, std 1), like the official code.
# Dataset configs set num_classes (here a 40-class placeholder) and the crop size
# (data_preprocessor.size).
#
# Loading an official CEN checkpoint (tools/model_converters/cen2mmseg.py): the
# official code exchanges wherever |gamma| < theta, so test it with
#   --cfg-options model.backbone.exchange_mode=all
norm_cfg = dict(type='BN', requires_grad=True)
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[123.675, 116.28, 103.53, 0.0],
    std=[58.395, 57.12, 57.375, 1.0],
    bgr_to_rgb=False,
    pad_val=0,
    seg_pad_val=255)
model = dict(
    type='CENEncoderDecoder',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='CENResNet',
        depth=101,
        in_channels=(3, 1),
        strides=(1, 2, 2, 2),
        dilations=(1, 1, 1, 1),
        out_indices=(0, 1, 2, 3),
        norm_cfg=norm_cfg,
        norm_eval=True,  # BN statistics frozen, gamma/beta trained (papers)
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
# lambda of the l1 sparsity penalty on the exchanging BN scaling factors (papers: 5e-3;
# the official code used 2e-4)
custom_hooks = [dict(type='CENSparsityHook', lambda_=5e-3)]
