# NeurIPS'20 Table 2, Align (all-stage), setting "same with ours"; RefineNet-R101,
# NYUDv2, single-scale. Paper: mIoU RGB / depth / ensemble 46.6 / 35.5 / 47.0,
# params 173.9M in total, 55.7M used for fusion.
# Fusion all-stage: after each of the 4 stages;
# AlignFusion: per-stream common/specific 1x1 convs, MK-MMD (11 Gaussian kernels)
# between the common parts as loss_align, 1x1 fusion conv.
_base_ = './_base_/refinenet_r101_nyud_fusion_shared.py'
model = dict(
    backbone=dict(
        fusion=dict(type='AlignFusion', num_kernels=11),
        fusion_stages='all'))
