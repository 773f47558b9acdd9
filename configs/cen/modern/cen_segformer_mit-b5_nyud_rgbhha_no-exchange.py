# Baseline of cen_segformer_mit-b5_nyud_rgbhha.py without channel exchange: the same
# network and parameters (one shared MiT-B5, private LayerNorms per stream, shared
# SegFormer head, learned ensemble), the same recipe, no exchange and no sparsity
# penalty. The difference between the two measures what exchanging adds.
#   python tools/train.py \
#       configs/cen/modern/cen_segformer_mit-b5_nyud_rgbhha_no-exchange.py
_base_ = ['./cen_segformer_mit-b5_nyud_rgbhha.py']
model = dict(backbone=dict(exchange=False))
custom_hooks = []  # no exchanging layer to penalise or report
