# CEN with a SegFormer head on a MiT-B5 encoder, RGB + depth: cen_segformer_mit-b2.py
# with the B5 depths and ImageNet checkpoint of mmseg 1.2.2
# configs/segformer/segformer_mit-b5_8xb2-160k_ade20k-512x512.py (embed_dims 64,
# num_heads [1, 2, 5, 8], num_layers [3, 6, 40, 3], drop_path_rate 0.1 from
# configs/_base_/models/segformer_mit-b0.py). Decoder width 512 is kept from CMX's
# MiT-B2 NYUDv2 config (C.decoder_embed_dim); CMX's MiT-B5 NYUDv2 config is not in the
# copy of huaaaliu/RGBX_Semantic_Segmentation we could read, so that value is not
# verified for B5.
_base_ = ['./cen_segformer_mit-b2.py']
checkpoint = 'https://download.openmmlab.com/mmsegmentation/v0.5/pretrain/segformer/mit_b5_20220624-658746d9.pth'  # noqa
model = dict(
    backbone=dict(
        backbone=dict(num_layers=[3, 6, 40, 3]),
        init_cfg=dict(type='Pretrained', checkpoint=checkpoint)))
