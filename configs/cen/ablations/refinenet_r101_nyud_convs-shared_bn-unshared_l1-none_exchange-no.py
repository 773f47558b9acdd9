# NeurIPS'20 Table 1, row 3: convs shared, BNs unshared (private per modality), no l1,
# no exchange. Paper (RefineNet-R101, NYUDv2, single-scale mIoU): RGB 46.2, depth 38.4,
# ensemble 48.0.
_base_ = '../refinenet_r101_nyud.py'
model = dict(backbone=dict(exchange=False))
custom_hooks = []  # no l1 penalty, nothing exchanges
