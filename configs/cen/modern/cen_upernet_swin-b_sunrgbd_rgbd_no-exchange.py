# Baseline of cen_upernet_swin-b_sunrgbd_rgbd.py without channel exchange: the same
# network and parameters (shared encoder, private norms per stream, shared head(s),
# learned ensemble), the same recipe, no exchange and no sparsity penalty.
#   python tools/train.py \
#       configs/cen/modern/cen_upernet_swin-b_sunrgbd_rgbd_no-exchange.py
_base_ = ['./cen_upernet_swin-b_sunrgbd_rgbd.py']
model = dict(backbone=dict(exchange=False))
custom_hooks = []  # no exchanging layer to penalise or report
