_base_ = ['../_base_/translation/cen_pix2pix_taskonomy.py']

# TPAMI'23 Table 5 (translation to RGB from 1-4 inputs), depth_euclidean + normal +
# edge_texture -> rgb. Paper: FID 60.90 / KID 1.56. Depth + Normal -> RGB (2 inputs) is
# the Table 4 config.
tasks = [
    dict(inputs=['depth_euclidean', 'normal', 'edge_texture'], target='rgb'),
]
model = dict(tasks=tasks)
