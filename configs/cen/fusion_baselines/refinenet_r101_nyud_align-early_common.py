# NeurIPS'20 Table 2, Align (early), commonly-used setting; RefineNet-R101,
# NYUDv2, single-scale. Paper: mIoU 46.4, params 238.8M.
# Fusion early: after ResNet stage 2;
# AlignFusion: per-stream common/specific 1x1 convs, MK-MMD (11 Gaussian kernels)
# between the common parts as loss_align, 1x1 fusion conv.
# Align as in Wang et al. (ECCV'16): both sub-networks are kept to the end,
# decoders included (the paper's 238.8M+ = 2 x 118.1M + fusion); the fused
# map is added to each stream; one prediction = the learned ensemble.
_base_ = './_base_/refinenet_r101_nyud_fusion_shared.py'
model = dict(
    backbone=dict(
        shared_convs=False,
        fusion=dict(type='AlignFusion', num_kernels=11),
        fusion_stages='early'),
    shared_heads=False)
