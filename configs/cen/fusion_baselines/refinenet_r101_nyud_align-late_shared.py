# NeurIPS'20 Table 2, Align (late), setting "same with ours"; RefineNet-R101,
# NYUDv2, single-scale. Paper: mIoU RGB / depth / ensemble 47.3 / 35.4 / 47.6,
# params 160.1M in total, 41.9M used for fusion.
# Fusion late: after stage 4;
# AlignFusion: per-stream common/specific 1x1 convs, MK-MMD (11 Gaussian kernels)
# between the common parts as loss_align, 1x1 fusion conv.
_base_ = './_base_/refinenet_r101_nyud_fusion_shared.py'
model = dict(
    backbone=dict(
        fusion=dict(type='AlignFusion', num_kernels=11),
        fusion_stages='late'))
