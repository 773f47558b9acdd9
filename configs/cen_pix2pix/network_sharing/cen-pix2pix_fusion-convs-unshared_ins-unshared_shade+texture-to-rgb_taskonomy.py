_base_ = ['../cen-pix2pix_fusion_shade+texture-to-rgb_taskonomy.py']

# TPAMI'23 Table 10, convs unshared, ins unshared (shade+texture -> rgb): every input
# stream its own U-Net (encoder and decoder convs and INs), trained side by side with
# the ensemble: the 'individual networks' of the paper; no channel exchange, no sparsity
# penalty. Paper (FID / KID x100): Shade 102.21 / 5.25, Texture 98.19 / 4.83, ensemble
# 92.72 / 4.15.
model = dict(generator=dict(encoder_convs='stream', decoder_convs='stream',
                            encoder_exchange=False))
# no exchanging layer: no sparsity penalty, no exchange statistics
custom_hooks = []
