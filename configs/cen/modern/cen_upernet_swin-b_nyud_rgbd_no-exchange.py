# Baseline of cen_upernet_swin-b_nyud_rgbd.py without channel exchange: the same
# network and parameters (one shared backbone, private LayerNorms per stream, shared
# heads with private BN, learned ensemble), the same recipe, no exchange and no
# sparsity penalty. The difference between the two measures what exchanging adds.
#   python tools/train.py \
#       configs/cen/modern/cen_upernet_swin-b_nyud_rgbd_no-exchange.py
_base_ = ['./cen_upernet_swin-b_nyud_rgbd.py']
model = dict(backbone=dict(exchange=False))
custom_hooks = []  # no exchanging layer to penalise or report
