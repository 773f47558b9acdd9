_base_ = ['../cen-pix2pix_fusion_shade+texture-to-rgb_taskonomy.py']

# TPAMI'23 Table 10, convs shared, ins shared (shade+texture -> rgb): one U-Net for all
# input streams, INs shared too; no channel exchange, no sparsity penalty. Paper (FID /
# KID x100): Shade 112.40 / 5.58, Texture 102.28 / 5.22, ensemble 96.31 / 4.36.
model = dict(generator=dict(encoder_norms='shared', encoder_exchange=False))
# no exchanging layer: no sparsity penalty, no exchange statistics
custom_hooks = []
