_base_ = ['../_base_/translation/cen_pix2pix_taskonomy.py']

# TPAMI'23 Table 4 (multimodal fusion), reshading + edge_texture -> rgb. Paper (CEN
# ensemble): FID 62.63 / KID 1.65.
tasks = [
    dict(inputs=['reshading', 'edge_texture'], target='rgb'),
]
model = dict(tasks=tasks)
