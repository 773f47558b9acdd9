# NeurIPS'20 Table 2, Concat (middle), setting "same with ours"; RefineNet-R101,
# NYUDv2, single-scale. Paper: mIoU RGB / depth / ensemble 46.6 / 37.0 / 47.4,
# params 120.3M in total, 2.1M used for fusion.
# Fusion middle: after stage 3; ConcatFusion: cat + 1x1 conv 2C -> C.
_base_ = './_base_/refinenet_r101_nyud_fusion_shared.py'
model = dict(backbone=dict(fusion=dict(type='ConcatFusion'), fusion_stages='middle'))
