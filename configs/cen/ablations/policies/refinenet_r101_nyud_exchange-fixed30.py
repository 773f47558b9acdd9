# TPAMI'23 Table 1, row "convs shared, BNs unshared, no l1, exchange (fixed 30%)" =
# NeurIPS'20 §4.1 "Additional ablation studies", item 1: "exchanging a fixed portion of
# 30% channels" without l1 and threshold. RefineNet (ResNet-101), NYUDv2, single-scale.
# Paper (mIoU): RGB 44.9, depth 40.3, ensemble 47.2 (full CEN: 51.1,
# ../../refinenet_r101_nyud.py). Not measured by us.
# Which channels the papers leave open; here (cen_mm.core.exchange_policies,
# 'fixed_ratio'): in every exchanging BN (after each 3x3 conv) stream m always replaces
# the first round(0.3 * K) channels of its own sub-part (K = C/2, e.g. 10 of 32) by the
# other stream's value, in training and test; gamma plays no role, no l1 penalty.
# Ambiguity: "30% channels" may mean 30% of all C channels of each stream instead:
#   --cfg-options model.backbone.exchange_mode=all   (both streams swap the first 30%)
_base_ = '../../refinenet_r101_nyud.py'
model = dict(backbone=dict(exchange_policy=dict(type='fixed_ratio', ratio=0.3)))
# no l1 penalty; the statistics hook reports the (fixed) exchanged channels
custom_hooks = [_base_.custom_hooks[1]]
