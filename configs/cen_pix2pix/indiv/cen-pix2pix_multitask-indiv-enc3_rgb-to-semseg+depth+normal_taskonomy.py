_base_ = ['../cen-pix2pix_multitask-cen-dec_rgb-to-semseg+depth+normal_taskonomy.py']

# TPAMI'23 Table 8 baseline Indiv (IN x3, enc x3, dec x3), rgb-to-semseg+depth+normal:
# one whole U-Net per task, trained together without exchange. Paper (FID / KID x100 for
# RGB, MAE / MSE x100 otherwise): SemSeg 26.68 / 40.11, Depth 5.35 / 9.15, Normal 18.70
# / 37.18; generator 163.1 M parameters.
model = dict(generator=dict(encoder_convs='task', decoder_exchange=False))
# no exchanging layer: no sparsity penalty, no exchange statistics
custom_hooks = []
