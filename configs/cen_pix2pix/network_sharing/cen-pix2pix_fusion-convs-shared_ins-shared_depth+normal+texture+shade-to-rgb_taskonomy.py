_base_ = ['../cen-pix2pix_fusion_depth+normal+texture+shade-to-rgb_taskonomy.py']

# TPAMI'23 Table 10, convs shared, ins shared (depth+normal+texture+shade -> rgb): one
# U-Net for all input streams, INs shared too; no channel exchange, no sparsity penalty.
# Paper (FID / KID x100): Shade 131.74 / 7.48, Texture 109.45 / 4.86, Depth 125.54 /
# 6.48, Normal 113.15 / 5.72, ensemble 102.78 / 4.67.
model = dict(generator=dict(encoder_norms='shared', encoder_exchange=False))
# no exchanging layer: no sparsity penalty, no exchange statistics
custom_hooks = []
