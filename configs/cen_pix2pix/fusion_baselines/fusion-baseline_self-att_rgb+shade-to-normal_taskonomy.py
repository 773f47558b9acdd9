_base_ = ['./_base_/fusion-unet256_taskonomy.py']

# NeurIPS'20 supp. Table 6: rgb + reshading -> normal, Self-att. baseline.
# Paper (MAE / MSE, both x1e-1): early 1.30 / 2.82, middle 1.18 / 2.59,
#   late 1.42 / 2.91, all-layer 1.26 / 2.76; CEN in the same table: 1.12 / 2.51.
# Fusion point: early here; the other rows: --cfg-options
#   model.generator.fusion_layers=middle (or late, all); see docs/paper_grid.md.
tasks = [
    dict(inputs=['rgb', 'reshading'], target='normal'),
]
model = dict(tasks=tasks, generator=dict(fusion=dict(type='SSMAFusion')))
