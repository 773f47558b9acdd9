_base_ = ['./cen-pix2pix_fusion_shade+texture+depth-to-rgb_taskonomy.py']

# TPAMI'23 Table 10, convs shared, ins unshared (shade+texture+depth -> rgb): one U-Net,
# private encoder INs per input stream (CEN's sharing), no exchange; no channel
# exchange, no sparsity penalty. Also TPAMI'23 Table 11 column 2 (same numbers except
# Depth of 3 inputs: 102.07 / 4.89 there). Paper (FID / KID x100): Shade 98.49 / 4.07,
# Texture 95.87 / 4.27, Depth 107.07 / 5.19, ensemble 84.39 / 3.45.
model = dict(generator=dict(encoder_exchange=False))
# no exchanging layer: no sparsity penalty, no exchange statistics
custom_hooks = []
