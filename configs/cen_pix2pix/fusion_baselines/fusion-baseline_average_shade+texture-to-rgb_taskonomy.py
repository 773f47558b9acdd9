_base_ = ['./_base_/fusion-unet256_taskonomy.py']

# NeurIPS'20 Table 4: reshading + edge_texture -> rgb, Average baseline.
# Paper (FID / KID x1e-2): early 93.72 / 4.22, middle 93.91 / 4.27,
#   late 126.74 / 7.10, all-layer 80.64 / 3.24; CEN in the same table: 62.63 / 1.65.
# Fusion point: early here; the other rows: --cfg-options
#   model.generator.fusion_layers=middle (or late, all); see docs/paper_grid.md.
tasks = [
    dict(inputs=['reshading', 'edge_texture'], target='rgb'),
]
model = dict(tasks=tasks, generator=dict(fusion=dict(type='AverageFusion')))
