# NeurIPS'20 Table 2, Concat (middle), commonly-used setting; RefineNet-R101,
# NYUDv2, single-scale. Paper: mIoU 46.7, params 147.7M.
# Fusion middle: after stage 3; ConcatFusion: cat + 1x1 conv 2C -> C.
_base_ = './_base_/refinenet_r101_nyud_fusion_common.py'
model = dict(backbone=dict(fusion=dict(type='ConcatFusion'), fusion_stages='middle'))
