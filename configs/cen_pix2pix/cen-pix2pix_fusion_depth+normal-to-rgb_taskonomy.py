_base_ = ['../_base_/translation/cen_pix2pix_taskonomy.py']

# TPAMI'23 Table 4 (multimodal fusion), depth_euclidean + normal -> rgb. Paper (CEN
# ensemble): FID 84.33 / KID 2.70.
tasks = [
    dict(inputs=['depth_euclidean', 'normal'], target='rgb'),
]
model = dict(tasks=tasks)
