_base_ = ['../cen-pix2pix_multitask-cen-dec_texture-to-rgb+depth+edge_taskonomy.py']

# TPAMI'23 Table 8 baseline Indiv (IN x3, enc x3, dec x3), texture-to-rgb+depth+edge:
# one whole U-Net per task, trained together without exchange. Paper (FID / KID x100 for
# RGB, MAE / MSE x100 otherwise): RGB 97.45 / 4.80, Depth 4.24 / 8.19, Edge 0.97 / 1.73;
# generator 163.1 M parameters.
model = dict(generator=dict(encoder_convs='task', decoder_exchange=False))
# no exchanging layer: no sparsity penalty, no exchange statistics
custom_hooks = []
