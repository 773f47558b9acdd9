# NeurIPS'20 Table 2, Align (middle), setting "same with ours"; RefineNet-R101,
# NYUDv2, single-scale. Paper: mIoU RGB / depth / ensemble 47.7 / 36.0 / 48.1,
# params 128.7M in total, 10.5M used for fusion.
# Fusion middle: after stage 3;
# AlignFusion: per-stream common/specific 1x1 convs, MK-MMD (11 Gaussian kernels)
# between the common parts as loss_align, 1x1 fusion conv.
_base_ = './_base_/refinenet_r101_nyud_fusion_shared.py'
model = dict(
    backbone=dict(
        fusion=dict(type='AlignFusion', num_kernels=11),
        fusion_stages='middle'))
