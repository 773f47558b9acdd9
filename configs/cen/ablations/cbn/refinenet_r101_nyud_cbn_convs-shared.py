# NeurIPS'20 §4.1 "Additional ablation studies", item 2, and Table 3 row "CBN [45]
# ResNet101" (also TPAMI'23 Table 3 / rebuttal Table A): "our implemented CBN by
# modulating the BN of depth conditional on RGB", shared convs. RefineNet (ResNet-101),
# NYUDv2, single-scale. Paper: mIoU 48.9 (pixel acc. 75.5, mean acc. 61.2); SUN RGB-D
# 47.4. Not measured by us.
# Here (cen_mm.core.conditional_norm): every BN after a 3x3 conv is a
# ConditionalModalityNorm: depth's gamma/beta get a per-sample offset from an MLP
# (C -> C/4 -> 2C, last layer zero-initialised) on RGB's global-pooled BN output of the
# same layer (de Vries et al. 2017); no exchange, no l1. Other BNs private as in CEN.
# Ambiguity: the papers give neither the conditioning input nor the MLP, nor which BNs
# are modulated (we take CEN's exchange positions).
_base_ = '../../refinenet_r101_nyud.py'
model = dict(
    backbone=dict(
        exchange=False, conditional_norm=dict(source_stream=0, target_stream=1)))
custom_hooks = []  # nothing exchanges, no l1 penalty
