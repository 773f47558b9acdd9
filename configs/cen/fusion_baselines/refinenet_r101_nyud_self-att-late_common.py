# NeurIPS'20 Table 2, Self-att. (late), commonly-used setting; RefineNet-R101,
# NYUDv2, single-scale. Paper: mIoU 47.5, params 245.5M.
# Fusion late: after stage 4;
# SSMAFusion: SSMA block (Valada et al., IJCV'20), eta = 16.
_base_ = './_base_/refinenet_r101_nyud_fusion_common.py'
model = dict(
    backbone=dict(
        fusion=dict(type='SSMAFusion', reduction=16),
        fusion_stages='late'))
