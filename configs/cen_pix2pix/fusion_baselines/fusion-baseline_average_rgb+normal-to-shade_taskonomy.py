_base_ = ['./_base_/fusion-unet256_taskonomy.py']

# NeurIPS'20 supp. Table 6: rgb + normal -> reshading, Average baseline.
# Paper (MAE / MSE, both x1e-1): early 1.46 / 2.29, middle 1.28 / 2.04,
#   late 1.51 / 2.39, all-layer 1.23 / 1.86; CEN in the same table: 1.10 / 1.72.
# Fusion point: early here; the other rows: --cfg-options
#   model.generator.fusion_layers=middle (or late, all); see docs/paper_grid.md.
tasks = [
    dict(inputs=['rgb', 'normal'], target='reshading'),
]
model = dict(tasks=tasks, generator=dict(fusion=dict(type='AverageFusion')))
