_base_ = ['../_base_/translation/cen_pix2pix_taskonomy.py']

# TPAMI'23 Table 5 (translation to RGB from 1-4 inputs), depth_euclidean + normal +
# edge_texture + reshading -> rgb. Paper: FID 57.19 / KID 1.33. Depth + Normal -> RGB (2
# inputs) is the Table 4 config.
tasks = [
    dict(inputs=['depth_euclidean', 'normal', 'edge_texture', 'reshading'], target='rgb'),
]
model = dict(tasks=tasks)
