_base_ = ['../cen-pix2pix_multitask-cen-dec_texture-to-rgb+depth_taskonomy.py']

# TPAMI'23 Table 7 baseline Indiv (IN x2, enc x2, dec x2), texture-to-rgb+depth: one
# whole U-Net per task (encoder_convs='task', a decoder per task), trained together
# without exchange. Paper (FID / KID x100 for RGB, MAE / MSE x100 otherwise): RGB 97.51
# / 4.82, Depth 4.20 / 8.16; generator 108.7 M parameters.
model = dict(generator=dict(encoder_convs='task', decoder_exchange=False))
# no exchanging layer: no sparsity penalty, no exchange statistics
custom_hooks = []
