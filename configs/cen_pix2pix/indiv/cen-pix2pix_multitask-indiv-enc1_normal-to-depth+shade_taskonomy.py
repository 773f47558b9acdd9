_base_ = ['../cen-pix2pix_multitask-cen-dec_normal-to-depth+shade_taskonomy.py']

# TPAMI'23 Table 7 baseline Indiv (IN x2, enc x1, dec x2), normal-to-depth+shade: CEN-
# dec without the exchange (shared encoder convs, private INs per task, a decoder per
# task). Paper (FID / KID x100 for RGB, MAE / MSE x100 otherwise): Depth 2.72 / 4.16,
# Shade 7.90 / 12.03; generator 89.3 M parameters.
model = dict(generator=dict(decoder_exchange=False))
# no exchanging layer: no sparsity penalty, no exchange statistics
custom_hooks = []
