# TPAMI'23 Table 1, row "convs shared, BNs unshared, no l1, exchange (random)" =
# NeurIPS'20 §4.1 item 5: "exchange channels randomly like ShuffleNet". RefineNet
# (ResNet-101), NYUDv2, single-scale. Paper (mIoU): RGB 44.2, depth 40.5, ensemble
# 46.8 (full CEN: 51.1). Not measured by us.
# Here (cen_mm.core.exchange_policies, 'random'): in every exchanging BN, each training
# forward pass stream m replaces round(0.3 * K) channels of its own sub-part drawn
# uniformly anew (torch's default generator: `randomness=dict(seed=...)` reproduces a
# run); at test time the expectation of that exchange, x' = (1 - p) x + p * other
# stream, on the sub-part (p = round(0.3 K) / K). No l1 penalty.
# Ambiguities: the papers give neither the random portion (30% assumed, as the fixed
# row) nor the test-time rule; alternatives:
#   --cfg-options model.backbone.exchange_policy.ratio=0.5
#   --cfg-options model.backbone.exchange_policy.test_mode=fixed   (or =random)
_base_ = '../../refinenet_r101_nyud.py'
model = dict(
    backbone=dict(
        exchange_policy=dict(type='random', ratio=0.3, test_mode='expected')))
# no l1 penalty; the statistics hook reports the last training draw
custom_hooks = [_base_.custom_hooks[1]]
