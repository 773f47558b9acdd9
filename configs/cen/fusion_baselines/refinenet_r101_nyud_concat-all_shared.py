# NeurIPS'20 Table 2, Concat (all-stage), setting "same with ours"; RefineNet-R101,
# NYUDv2, single-scale. Paper: mIoU RGB / depth / ensemble 47.8 / 36.9 / 48.3,
# params 129.4M in total, 11.2M used for fusion.
# Fusion all-stage: after each of the 4 stages; ConcatFusion: cat + 1x1 conv 2C -> C.
_base_ = './_base_/refinenet_r101_nyud_fusion_shared.py'
model = dict(backbone=dict(fusion=dict(type='ConcatFusion'), fusion_stages='all'))
