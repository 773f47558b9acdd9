_base_ = ['./cen-pix2pix_fusion_shade+texture+depth-to-rgb_taskonomy.py']

# TPAMI'23 Table 10, convs unshared, ins unshared (shade+texture+depth -> rgb): every
# input stream its own U-Net (encoder and decoder convs and INs), trained side by side
# with the ensemble: the 'individual networks' of the paper; no channel exchange, no
# sparsity penalty. Also TPAMI'23 Table 11 column 1 (same numbers). Paper (FID / KID
# x100): Shade 101.86 / 5.18, Texture 98.60 / 4.89, Depth 114.18 / 5.71, ensemble 91.30
# / 3.92.
model = dict(generator=dict(encoder_convs='stream', decoder_convs='stream',
                            encoder_exchange=False))
# no exchanging layer: no sparsity penalty, no exchange statistics
custom_hooks = []
