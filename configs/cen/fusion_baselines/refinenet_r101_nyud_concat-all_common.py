# NeurIPS'20 Table 2, Concat (all-stage), commonly-used setting; RefineNet-R101,
# NYUDv2, single-scale. Paper: mIoU 47.5, params 171.7M.
# Fusion all-stage: after each of the 4 stages; ConcatFusion: cat + 1x1 conv 2C -> C.
_base_ = './_base_/refinenet_r101_nyud_fusion_common.py'
model = dict(backbone=dict(fusion=dict(type='ConcatFusion'), fusion_stages='all'))
