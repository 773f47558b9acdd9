_base_ = ['./_base_/fusion-unet256_taskonomy.py']

# NeurIPS'20 Table 4: reshading + edge_texture -> rgb, Align baseline.
# Paper (FID / KID x1e-2): early 99.68 / 4.93, middle 95.52 / 4.75,
#   late 98.33 / 4.70, all-layer 92.30 / 4.20; CEN in the same table: 62.63 / 1.65.
# Fusion point: early here; the other rows: --cfg-options
#   model.generator.fusion_layers=middle (or late, all); see docs/paper_grid.md.
tasks = [
    dict(inputs=['reshading', 'edge_texture'], target='rgb'),
]
model = dict(tasks=tasks, generator=dict(fusion=dict(type='AlignFusion')))
