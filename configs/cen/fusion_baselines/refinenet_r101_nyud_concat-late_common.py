# NeurIPS'20 Table 2, Concat (late), commonly-used setting; RefineNet-R101,
# NYUDv2, single-scale. Paper: mIoU 46.3, params 169.0M.
# Fusion late: after stage 4; ConcatFusion: cat + 1x1 conv 2C -> C.
_base_ = './_base_/refinenet_r101_nyud_fusion_common.py'
model = dict(backbone=dict(fusion=dict(type='ConcatFusion'), fusion_stages='late'))
