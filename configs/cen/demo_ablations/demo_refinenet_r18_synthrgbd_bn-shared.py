# Demo counterpart of NeurIPS'20 Table 1 row 2 (convs shared, BNs shared, no l1, no
# exchange): one encoder (convs and one BN per layer) and one decoder for both
# modalities, every stream predicts from its own input, the ensemble combines them.
#   OMP_NUM_THREADS=1 python tools/train.py \
#       configs/cen/demo_ablations/demo_refinenet_r18_synthrgbd_bn-shared.py
_base_ = '../demo_refinenet_r18_synthrgbd.py'
model = dict(backbone=dict(shared_norms=True, exchange=False))
custom_hooks = []  # no l1 penalty, nothing exchanges
