# Demo counterpart of NeurIPS'20 Table 1 row 3 (convs shared, BNs private, no l1, no
# exchange): the demo config with exchange switched off and no CEN hooks. Each stream
# sees only its own modality; only the ensemble combines them.
#   OMP_NUM_THREADS=1 python tools/train.py \
#       configs/cen/demo_ablations/demo_refinenet_r18_synthrgbd_bn-private_exchange-no.py
_base_ = '../demo_refinenet_r18_synthrgbd.py'
model = dict(backbone=dict(exchange=False))
custom_hooks = []  # no l1 penalty, nothing exchanges
