_base_ = ['../cen-pix2pix_multitask-cen-dec_normal-to-depth+shade_taskonomy.py']

# TPAMI'23 Table 7 baseline Indiv (IN x2, enc x2, dec x2), normal-to-depth+shade: one
# whole U-Net per task (encoder_convs='task', a decoder per task), trained together
# without exchange. Paper (FID / KID x100 for RGB, MAE / MSE x100 otherwise): Depth 2.59
# / 3.92, Shade 8.08 / 12.40; generator 108.7 M parameters.
model = dict(generator=dict(encoder_convs='task', decoder_exchange=False))
# no exchanging layer: no sparsity penalty, no exchange statistics
custom_hooks = []
