# NeurIPS'20 Table 2, Align (early), setting "same with ours"; RefineNet-R101,
# NYUDv2, single-scale. Paper: mIoU RGB / depth / ensemble 46.3 / 35.8 / 46.7,
# params 120.8M in total, 2.6M used for fusion.
# Fusion early: after ResNet stage 2;
# AlignFusion: per-stream common/specific 1x1 convs, MK-MMD (11 Gaussian kernels)
# between the common parts as loss_align, 1x1 fusion conv.
_base_ = './_base_/refinenet_r101_nyud_fusion_shared.py'
model = dict(
    backbone=dict(
        fusion=dict(type='AlignFusion', num_kernels=11),
        fusion_stages='early'))
