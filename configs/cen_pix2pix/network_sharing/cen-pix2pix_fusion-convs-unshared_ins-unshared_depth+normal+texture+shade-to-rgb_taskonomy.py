_base_ = ['../cen-pix2pix_fusion_depth+normal+texture+shade-to-rgb_taskonomy.py']

# TPAMI'23 Table 10, convs unshared, ins unshared (depth+normal+texture+shade -> rgb):
# every input stream its own U-Net (encoder and decoder convs and INs), trained side by
# side with the ensemble: the 'individual networks' of the paper; no channel exchange,
# no sparsity penalty. Also TPAMI'23 Table 11 column 1 (same numbers). Paper (FID / KID
# x100): Shade 100.83 / 5.06, Texture 97.34 / 4.77, Depth 114.50 / 5.83, Normal 108.65 /
# 5.45, ensemble 89.52 / 3.80.
model = dict(generator=dict(encoder_convs='stream', decoder_convs='stream',
                            encoder_exchange=False))
# no exchanging layer: no sparsity penalty, no exchange statistics
custom_hooks = []
