# NeurIPS'20 Table 2, Concat (late), setting "same with ours"; RefineNet-R101,
# NYUDv2, single-scale. Paper: mIoU RGB / depth / ensemble 46.3 / 37.2 / 46.9,
# params 126.6M in total, 8.4M used for fusion.
# Fusion late: after stage 4; ConcatFusion: cat + 1x1 conv 2C -> C.
_base_ = './_base_/refinenet_r101_nyud_fusion_shared.py'
model = dict(backbone=dict(fusion=dict(type='ConcatFusion'), fusion_stages='late'))
