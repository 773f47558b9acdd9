_base_ = ['./_base_/fusion-unet256_taskonomy.py']

# NeurIPS'20 Table 4: reshading + edge_texture -> rgb, Self-att. baseline.
# Paper (FID / KID x1e-2): early 83.60 / 3.38, middle 90.79 / 3.92,
#   late 105.62 / 5.42, all-layer 73.87 / 2.46; CEN in the same table: 62.63 / 1.65.
# Fusion point: early here; the other rows: --cfg-options
#   model.generator.fusion_layers=middle (or late, all); see docs/paper_grid.md.
tasks = [
    dict(inputs=['reshading', 'edge_texture'], target='rgb'),
]
model = dict(tasks=tasks, generator=dict(fusion=dict(type='SSMAFusion')))
