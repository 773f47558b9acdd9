_base_ = ['./_base_/fusion-unet256_taskonomy.py']

# NeurIPS'20 supp. Table 6: rgb + normal -> reshading, Align baseline.
# Paper (MAE / MSE, both x1e-1): early 1.39 / 2.26, middle 1.32 / 2.16,
#   late 1.27 / 2.04, all-layer 1.41 / 2.21; CEN in the same table: 1.10 / 1.72.
# Fusion point: early here; the other rows: --cfg-options
#   model.generator.fusion_layers=middle (or late, all); see docs/paper_grid.md.
tasks = [
    dict(inputs=['rgb', 'normal'], target='reshading'),
]
model = dict(tasks=tasks, generator=dict(fusion=dict(type='AlignFusion')))
