_base_ = ['./_base_/fusion-unet256_taskonomy.py']

# NeurIPS'20 supp. Table 6: rgb + normal -> reshading, Self-att. baseline.
# Paper (MAE / MSE, both x1e-1): early 1.21 / 1.83, middle 1.15 / 1.73,
#   late 1.45 / 2.28, all-layer 1.18 / 1.76; CEN in the same table: 1.10 / 1.72.
# Fusion point: early here; the other rows: --cfg-options
#   model.generator.fusion_layers=middle (or late, all); see docs/paper_grid.md.
tasks = [
    dict(inputs=['rgb', 'normal'], target='reshading'),
]
model = dict(tasks=tasks, generator=dict(fusion=dict(type='SSMAFusion')))
