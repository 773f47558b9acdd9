_base_ = ['./_base_/fusion-unet256_taskonomy.py']

# NeurIPS'20 Table 4: reshading + edge_texture -> rgb, Concat baseline.
# Paper (FID / KID x1e-2): early 87.46 / 3.64, middle 95.16 / 4.67,
#   late 122.47 / 6.56, all-layer 78.82 / 3.13; CEN in the same table: 62.63 / 1.65.
# Fusion point: early here; the other rows: --cfg-options
#   model.generator.fusion_layers=middle (or late, all); see docs/paper_grid.md.
tasks = [
    dict(inputs=['reshading', 'edge_texture'], target='rgb'),
]
model = dict(tasks=tasks, generator=dict(fusion=dict(type='ConcatFusion')))
