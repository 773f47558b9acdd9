_base_ = ['../cen-pix2pix_multitask-cen-dec_texture-to-rgb+depth_taskonomy.py']

# TPAMI'23 Table 7 baseline Indiv (IN x2, enc x1, dec x2), texture-to-rgb+depth: CEN-dec
# without the exchange (shared encoder convs, private INs per task, a decoder per task).
# Paper (FID / KID x100 for RGB, MAE / MSE x100 otherwise): RGB 96.81 / 4.57, Depth 4.05
# / 7.94; generator 89.3 M parameters.
model = dict(generator=dict(decoder_exchange=False))
# no exchanging layer: no sparsity penalty, no exchange statistics
custom_hooks = []
