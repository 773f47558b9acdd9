_base_ = ['../cen-pix2pix_fusion_depth+normal+texture+shade-to-rgb_taskonomy.py']

# TPAMI'23 Table 10, convs shared, ins unshared (depth+normal+texture+shade -> rgb): one
# U-Net, private encoder INs per input stream (CEN's sharing), no exchange; no channel
# exchange, no sparsity penalty. Also TPAMI'23 Table 11 column 2 (same numbers except
# Depth of 3 inputs: 102.07 / 4.89 there). Paper (FID / KID x100): Shade 96.98 / 4.23,
# Texture 94.64 / 4.22, Depth 109.93 / 5.41, Normal 99.38 / 4.45, ensemble 86.76 / 3.63.
model = dict(generator=dict(encoder_exchange=False))
# no exchanging layer: no sparsity penalty, no exchange statistics
custom_hooks = []
