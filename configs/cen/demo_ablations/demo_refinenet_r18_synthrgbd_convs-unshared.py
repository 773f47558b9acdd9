# Demo counterpart of NeurIPS'20 Table 1 row 1 (convs unshared, BNs unshared, no l1,
# no exchange): two separate networks (encoder convs, BNs and RefineNet decoder per
# modality) plus the learned ensemble.
#   OMP_NUM_THREADS=1 python tools/train.py \
#       configs/cen/demo_ablations/demo_refinenet_r18_synthrgbd_convs-unshared.py
_base_ = '../demo_refinenet_r18_synthrgbd.py'
model = dict(backbone=dict(shared_convs=False, exchange=False), shared_heads=False)
custom_hooks = []  # no l1 penalty, nothing exchanges
