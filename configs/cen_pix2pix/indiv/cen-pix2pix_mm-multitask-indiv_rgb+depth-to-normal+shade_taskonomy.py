_base_ = ['../cen-pix2pix_mm-multitask-cen-dec_rgb+depth-to-normal+shade_taskonomy.py']

# TPAMI'23 Table 9 baseline Indiv (IN x4, enc x2, dec x2), rgb+depth-to-normal+shade:
# one U-Net per task (encoder_convs='task', a decoder per task) whose two input streams
# keep private encoder INs and are combined by the ensemble only; no exchange in encoder
# or decoder. Paper (FID / KID x100 for RGB, MAE / MSE x100 otherwise): Normal 18.68 /
# 37.11, Shade 8.62 / 12.76; generator 108.7 M parameters.
model = dict(generator=dict(encoder_convs='task', encoder_exchange=False,
                            decoder_exchange=False))
# no exchanging layer: no sparsity penalty, no exchange statistics
custom_hooks = []
