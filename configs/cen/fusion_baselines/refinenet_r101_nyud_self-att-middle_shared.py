# NeurIPS'20 Table 2, Self-att. (middle), setting "same with ours"; RefineNet-R101,
# NYUDv2, single-scale. Paper: mIoU RGB / depth / ensemble 48.0 / 38.1 / 48.7,
# params 139.4M in total, 21.2M used for fusion.
# Fusion middle: after stage 3;
# SSMAFusion: SSMA block (Valada et al., IJCV'20), eta = 16.
_base_ = './_base_/refinenet_r101_nyud_fusion_shared.py'
model = dict(
    backbone=dict(
        fusion=dict(type='SSMAFusion', reduction=16),
        fusion_stages='middle'))
