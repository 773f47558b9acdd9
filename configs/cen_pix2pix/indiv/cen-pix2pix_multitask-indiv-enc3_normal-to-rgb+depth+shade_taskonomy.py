_base_ = ['../cen-pix2pix_multitask-cen-dec_normal-to-rgb+depth+shade_taskonomy.py']

# TPAMI'23 Table 8 baseline Indiv (IN x3, enc x3, dec x3), normal-to-rgb+depth+shade:
# one whole U-Net per task, trained together without exchange. Paper (FID / KID x100 for
# RGB, MAE / MSE x100 otherwise): RGB 108.28 / 5.42, Depth 2.60 / 3.92, Shade 8.11 /
# 12.38; generator 163.1 M parameters.
model = dict(generator=dict(encoder_convs='task', decoder_exchange=False))
# no exchanging layer: no sparsity penalty, no exchange statistics
custom_hooks = []
