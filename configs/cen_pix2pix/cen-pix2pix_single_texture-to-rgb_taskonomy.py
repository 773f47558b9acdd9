_base_ = ['../_base_/translation/cen_pix2pix_taskonomy.py']

# TPAMI'23 Table 5 (translation to RGB from 1-4 inputs), edge_texture -> rgb. Paper: FID
# 97.51 / KID 4.82. One input: plain Pix2Pix U-Net-256 with instance norm (no exchange).
tasks = [
    dict(inputs=['edge_texture'], target='rgb'),
]
model = dict(tasks=tasks)
# no exchanging layer: no sparsity penalty, no exchange statistics (both hooks
# refuse a model without exchange)
custom_hooks = []
