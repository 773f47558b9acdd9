_base_ = ['../cen-pix2pix_fusion_shade+texture-to-rgb_taskonomy.py']

# TPAMI'23 Table 10, convs shared, ins unshared (shade+texture -> rgb): one U-Net,
# private encoder INs per input stream (CEN's sharing), no exchange; no channel
# exchange, no sparsity penalty. Paper (FID / KID x100): Shade 100.69 / 4.51, Texture
# 93.40 / 4.18, ensemble 87.91 / 3.73.
model = dict(generator=dict(encoder_exchange=False))
# no exchanging layer: no sparsity penalty, no exchange statistics
custom_hooks = []
