_base_ = ['../../_base_/translation/cen_pix2pix_taskonomy.py']

# TPAMI'23 Table 10, last column (multimodal fusion, CEN): reshading + edge_texture +
# depth_euclidean -> rgb, in Table 10's stream order. Paper (FID / KID x100): Shade
# 69.37 / 2.21, Texture 64.70 / 1.73, Depth 71.61 / 2.27, ensemble 58.35 / 1.42.
tasks = [
    dict(inputs=['reshading', 'edge_texture', 'depth_euclidean'], target='rgb'),
]
model = dict(tasks=tasks)
