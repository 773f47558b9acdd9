# NeurIPS'20 §4.1 "Additional ablation studies", item 3: summing activations "with a
# learnt soft gate". RefineNet (ResNet-101), NYUDv2, single-scale. Paper (ensemble
# mIoU): 48.4 (plain sum 48.1: ./refinenet_r101_nyud_sum.py; full CEN 51.1).
# Our reading (the paper gives no formula): after every exchanging BN,
# x'_m = x_m + sigmoid(g_m) * sum_{m' != m} x_m' on every channel (scope='all'), with a
# learned gate logit g per (stream, channel), initialised to 0 (gate 0.5); l1 and
# theta as in full CEN. Only the sums on the channels with |gamma| < theta:
# --cfg-options model.backbone.exchange_replacement.scope=replaced.
# See cen_mm/core/exchange_replacements.py ('gated_sum') and docs/paper_grid.md.
_base_ = '../../refinenet_r101_nyud.py'
model = dict(backbone=dict(exchange_replacement=dict(type='gated_sum', scope='all')))
