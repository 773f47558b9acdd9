_base_ = ['../cen-pix2pix_mm-multitask-cen-dec_texture+shade-to-rgb+depth_taskonomy.py']

# TPAMI'23 Table 9 baseline Indiv (IN x4, enc x2, dec x2), texture+shade-to-rgb+depth:
# one U-Net per task (encoder_convs='task', a decoder per task) whose two input streams
# keep private encoder INs and are combined by the ensemble only; no exchange in encoder
# or decoder. Paper (FID / KID x100 for RGB, MAE / MSE x100 otherwise): RGB 97.31 /
# 4.76, Depth 2.66 / 4.20; generator 108.7 M parameters.
model = dict(generator=dict(encoder_convs='task', encoder_exchange=False,
                            decoder_exchange=False))
# no exchanging layer: no sparsity penalty, no exchange statistics
custom_hooks = []
