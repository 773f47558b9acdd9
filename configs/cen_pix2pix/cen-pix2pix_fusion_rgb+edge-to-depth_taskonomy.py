_base_ = ['../_base_/translation/cen_pix2pix_taskonomy.py']

# TPAMI'23 Table 4 (multimodal fusion), rgb + edge_occlusion -> depth_euclidean. Paper
# (CEN ensemble): MAE 2.75 / MSE 6.60.
tasks = [
    dict(inputs=['rgb', 'edge_occlusion'], target='depth_euclidean'),
]
model = dict(tasks=tasks)
