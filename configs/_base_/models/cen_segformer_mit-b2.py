# CEN with a SegFormer head on a MiT-B2 encoder (SegFormer, NeurIPS'21), RGB + depth.
# The encoder is mmseg's own MixVisionTransformer, made multi-stream by
# MultiStreamBackbone (cen_mm/models/backbones/multi_stream_backbone.py): every
# weight shared by the streams, every LayerNorm private per stream, and the block norms
# (norm1/norm2 of every transformer block) exchanging channels by the CEN rule on the
# LayerNorm scale (an extension of the papers, which define it for BN/IN; see
# docs/backbones.md). The decode head is mmseg's SegformerHead, shared by the streams
# with private BN (CENEncoderDecoder head_norms='private'); a learned ensemble
# combines the streams' predictions as in every CEN config.
# MiT-B2 architecture and ImageNet checkpoint: mmseg 1.2.2
# configs/segformer/segformer_mit-b2_8xb2-160k_ade20k-512x512.py. Decoder width 512:
# CMX (Zhang et al., T-ITS'23) configs/NYUDepthv2/NYUDepthv2_mit_b2_e500_v1.py
# (C.decoder_embed_dim = 512; mmseg's ADE20K config uses 768 for B2).
checkpoint = 'https://download.openmmlab.com/mmsegmentation/v0.5/pretrain/segformer/mit_b2_20220624-66e8bf70.pth'  # noqa
norm_cfg = dict(type='BN', requires_grad=True)  # head norms; SyncBN for multi-GPU
model = dict(
    type='CENEncoderDecoder',
    head_norms='private',
    backbone=dict(
        type='MultiStreamBackbone',
        in_channels=(3, 1),
        exchange=True,
        exchange_layers=None,  # family default: r'layers\.\d+\.1\.\d+\.norm[12]'
        exchange_threshold=2e-2,  # theta, the papers' segmentation value
        exchange_mode='subpart',
        backbone=dict(
            type='mmseg.MixVisionTransformer',
            embed_dims=64,
            num_stages=4,
            num_layers=[3, 4, 6, 3],
            num_heads=[1, 2, 5, 8],
            patch_sizes=[7, 3, 3, 3],
            sr_ratios=[8, 4, 2, 1],
            out_indices=(0, 1, 2, 3),
            mlp_ratio=4,
            qkv_bias=True,
            drop_rate=0.0,
            attn_drop_rate=0.0,
            drop_path_rate=0.1),
        # single-stream ImageNet MiT-B2 copied into every stream, strict key check
        init_cfg=dict(type='Pretrained', checkpoint=checkpoint)),
    decode_head=dict(
        type='SegformerHead',
        in_channels=[64, 128, 320, 512],
        in_index=[0, 1, 2, 3],
        channels=512,
        dropout_ratio=0.1,
        num_classes=40,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0,
            avg_non_ignore=True)),
    train_cfg=dict(),
    # output='ensemble' (default) or a stream index (0: RGB, 1: depth)
    test_cfg=dict(mode='whole', output='ensemble'))
