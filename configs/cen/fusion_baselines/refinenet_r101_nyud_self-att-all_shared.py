# NeurIPS'20 Table 2, Self-att. (all-stage), setting "same with ours"; RefineNet-R101,
# NYUDv2, single-scale. Paper: mIoU RGB / depth / ensemble 48.5 / 37.7 / 49.1,
# params 231.0M in total, 112.8M used for fusion.
# Fusion all-stage: after each of the 4 stages;
# SSMAFusion: SSMA block (Valada et al., IJCV'20), eta = 16.
_base_ = './_base_/refinenet_r101_nyud_fusion_shared.py'
model = dict(
    backbone=dict(
        fusion=dict(type='SSMAFusion', reduction=16),
        fusion_stages='all'))
