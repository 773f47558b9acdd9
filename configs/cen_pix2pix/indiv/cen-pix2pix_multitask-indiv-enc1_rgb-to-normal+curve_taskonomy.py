_base_ = ['../cen-pix2pix_multitask-cen-dec_rgb-to-normal+curve_taskonomy.py']

# TPAMI'23 Table 7 baseline Indiv (IN x2, enc x1, dec x2), rgb-to-normal+curve: CEN-dec
# without the exchange (shared encoder convs, private INs per task, a decoder per task).
# Paper (FID / KID x100 for RGB, MAE / MSE x100 otherwise): Normal 18.15 / 36.82, Curve
# 6.02 / 16.70; generator 89.3 M parameters.
model = dict(generator=dict(decoder_exchange=False))
# no exchanging layer: no sparsity penalty, no exchange statistics
custom_hooks = []
