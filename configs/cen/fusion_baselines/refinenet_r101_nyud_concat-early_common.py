# NeurIPS'20 Table 2, Concat (early), commonly-used setting; RefineNet-R101,
# NYUDv2, single-scale. Paper: mIoU 47.2, params 120.1M.
# Fusion early: after ResNet stage 2; ConcatFusion: cat + 1x1 conv 2C -> C.
_base_ = './_base_/refinenet_r101_nyud_fusion_common.py'
model = dict(backbone=dict(fusion=dict(type='ConcatFusion'), fusion_stages='early'))
