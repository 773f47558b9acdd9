_base_ = ['../cen-pix2pix_multitask-cen-dec_rgb-to-shade+texture_taskonomy.py']

# TPAMI'23 Table 7 baseline Indiv (IN x2, enc x1, dec x2), rgb-to-shade+texture: CEN-dec
# without the exchange (shared encoder convs, private INs per task, a decoder per task).
# Paper (FID / KID x100 for RGB, MAE / MSE x100 otherwise): Shade 23.63 / 32.92, Texture
# 2.19 / 4.66; generator 89.3 M parameters.
model = dict(generator=dict(decoder_exchange=False))
# no exchanging layer: no sparsity penalty, no exchange statistics
custom_hooks = []
