_base_ = ['./_base_/fusion-unet256_taskonomy.py']

# NeurIPS'20 supp. Table 6: rgb + normal -> reshading, Concat baseline.
# Paper (MAE / MSE, both x1e-1): early 1.56 / 2.45, middle 1.38 / 2.12,
#   late 1.26 / 1.92, all-layer 1.28 / 2.02; CEN in the same table: 1.10 / 1.72.
# Fusion point: early here; the other rows: --cfg-options
#   model.generator.fusion_layers=middle (or late, all); see docs/paper_grid.md.
tasks = [
    dict(inputs=['rgb', 'normal'], target='reshading'),
]
model = dict(tasks=tasks, generator=dict(fusion=dict(type='ConcatFusion')))
