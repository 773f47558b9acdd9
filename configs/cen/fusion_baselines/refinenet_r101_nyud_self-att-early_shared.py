# NeurIPS'20 Table 2, Self-att. (early), setting "same with ours"; RefineNet-R101,
# NYUDv2, single-scale. Paper: mIoU RGB / depth / ensemble 47.7 / 38.3 / 48.2,
# params 123.6M in total, 5.4M used for fusion.
# Fusion early: after ResNet stage 2;
# SSMAFusion: SSMA block (Valada et al., IJCV'20), eta = 16.
_base_ = './_base_/refinenet_r101_nyud_fusion_shared.py'
model = dict(
    backbone=dict(
        fusion=dict(type='SSMAFusion', reduction=16),
        fusion_stages='early'))
