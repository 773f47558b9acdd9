# NeurIPS'20 §4.1 "Additional ablation studies", item 5: "directly discard unimportant
# channels without channel exchanging" (= TPAMI'23 Fig. 9a, zeroing out). RefineNet
# (ResNet-101), NYUDv2, single-scale. Paper (ensemble mIoU): 47.5 (full CEN: 51.1,
# ../../refinenet_r101_nyud.py). Everything as in full CEN (l1 on the sub-parts,
# theta = 2e-2), except that a channel with |gamma| < theta in its stream's sub-part is
# set to zero instead of the other stream's value. Deviations: none known.
_base_ = '../../refinenet_r101_nyud.py'
model = dict(backbone=dict(exchange_replacement=dict(type='zero')))
