# NeurIPS'20 Table 2, Self-att. (late), setting "same with ours"; RefineNet-R101,
# NYUDv2, single-scale. Paper: mIoU RGB / depth / ensemble 47.6 / 38.1 / 48.3,
# params 203.2M in total, 84.9M used for fusion.
# Fusion late: after stage 4;
# SSMAFusion: SSMA block (Valada et al., IJCV'20), eta = 16.
_base_ = './_base_/refinenet_r101_nyud_fusion_shared.py'
model = dict(
    backbone=dict(
        fusion=dict(type='SSMAFusion', reduction=16),
        fusion_stages='late'))
