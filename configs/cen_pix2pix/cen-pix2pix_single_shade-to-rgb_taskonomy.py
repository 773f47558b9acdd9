_base_ = ['../_base_/translation/cen_pix2pix_taskonomy.py']

# TPAMI'23 Table 5 (translation to RGB from 1-4 inputs), reshading -> rgb. Paper: FID
# 100.96 / KID 5.17. One input: plain Pix2Pix U-Net-256 with instance norm (no
# exchange).
tasks = [
    dict(inputs=['reshading'], target='rgb'),
]
model = dict(tasks=tasks)
# no exchanging layer: no sparsity penalty, no exchange statistics (both hooks
# refuse a model without exchange)
custom_hooks = []
