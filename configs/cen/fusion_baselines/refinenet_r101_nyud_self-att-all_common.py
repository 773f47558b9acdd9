# NeurIPS'20 Table 2, Self-att. (all-stage), commonly-used setting; RefineNet-R101,
# NYUDv2, single-scale. Paper: mIoU 48.7, params 272.3M.
# Fusion all-stage: after each of the 4 stages;
# SSMAFusion: SSMA block (Valada et al., IJCV'20), eta = 16.
_base_ = './_base_/refinenet_r101_nyud_fusion_common.py'
model = dict(
    backbone=dict(
        fusion=dict(type='SSMAFusion', reduction=16),
        fusion_stages='all'))
