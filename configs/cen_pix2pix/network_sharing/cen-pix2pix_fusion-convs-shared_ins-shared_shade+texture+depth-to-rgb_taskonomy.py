_base_ = ['./cen-pix2pix_fusion_shade+texture+depth-to-rgb_taskonomy.py']

# TPAMI'23 Table 10, convs shared, ins shared (shade+texture+depth -> rgb): one U-Net
# for all input streams, INs shared too; no channel exchange, no sparsity penalty. Paper
# (FID / KID x100): Shade 115.51 / 5.77, Texture 104.39 / 4.54, Depth 121.40 / 6.23,
# ensemble 100.41 / 4.73.
model = dict(generator=dict(encoder_norms='shared', encoder_exchange=False))
# no exchanging layer: no sparsity penalty, no exchange statistics
custom_hooks = []
