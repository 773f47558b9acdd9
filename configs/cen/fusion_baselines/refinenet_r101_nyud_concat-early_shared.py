# NeurIPS'20 Table 2, Concat (early), setting "same with ours"; RefineNet-R101,
# NYUDv2, single-scale. Paper: mIoU RGB / depth / ensemble 47.0 / 37.5 / 47.6,
# params 118.8M in total, 0.6M used for fusion.
# Fusion early: after ResNet stage 2; ConcatFusion: cat + 1x1 conv 2C -> C.
_base_ = './_base_/refinenet_r101_nyud_fusion_shared.py'
model = dict(backbone=dict(fusion=dict(type='ConcatFusion'), fusion_stages='early'))
