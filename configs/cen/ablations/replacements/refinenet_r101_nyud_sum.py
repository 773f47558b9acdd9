# NeurIPS'20 §4.1 "Additional ablation studies", item 3: "directly summing activations
# (discarding the 1st term in Equation 6)". RefineNet (ResNet-101), NYUDv2,
# single-scale. Paper (ensemble mIoU): 48.1 (full CEN: 51.1, ../../refinenet_r101_nyud.py).
# Our reading (the paper gives no formula): Eq. 6's case split is dropped and, after
# every exchanging BN, each stream gets the sum of all streams' activations,
# x'_m = x_m + sum_{m' != m} x_m', on every channel (scope='all'); l1 and theta as in
# full CEN (theta then has no effect). The other reading, summing only on the channels
# with |gamma| < theta: --cfg-options model.backbone.exchange_replacement.scope=replaced.
# See cen_mm/core/exchange_replacements.py ('sum') and docs/paper_grid.md.
_base_ = '../../refinenet_r101_nyud.py'
model = dict(backbone=dict(exchange_replacement=dict(type='sum', scope='all')))
