# NeurIPS'20 Table 2, Self-att. (middle), commonly-used setting; RefineNet-R101,
# NYUDv2, single-scale. Paper: mIoU 48.3, params 166.9M.
# Fusion middle: after stage 3;
# SSMAFusion: SSMA block (Valada et al., IJCV'20), eta = 16.
_base_ = './_base_/refinenet_r101_nyud_fusion_common.py'
model = dict(
    backbone=dict(
        fusion=dict(type='SSMAFusion', reduction=16),
        fusion_stages='middle'))
