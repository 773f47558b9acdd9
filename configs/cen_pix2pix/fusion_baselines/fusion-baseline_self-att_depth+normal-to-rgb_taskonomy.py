_base_ = ['./_base_/fusion-unet256_taskonomy.py']

# NeurIPS'20 Table 4: depth_euclidean + normal -> rgb, Self-att. baseline.
# Paper (FID / KID x1e-2): early 100.70 / 4.47, middle 98.63 / 4.35,
#   late 108.02 / 5.09, all-layer 96.73 / 3.95; CEN in the same table: 84.33 / 2.70.
# Fusion point: early here; the other rows: --cfg-options
#   model.generator.fusion_layers=middle (or late, all); see docs/paper_grid.md.
tasks = [
    dict(inputs=['depth_euclidean', 'normal'], target='rgb'),
]
model = dict(tasks=tasks, generator=dict(fusion=dict(type='SSMAFusion')))
