_base_ = ['./_base_/fusion-unet256_taskonomy.py']

# NeurIPS'20 supp. Table 6: rgb + edge_occlusion -> depth_euclidean, Self-att. baseline.
# Paper (MAE / MSE, both x1e-1): early 0.30 / 0.71, middle 0.33 / 0.73,
#   late 0.34 / 0.75, all-layer 0.30 / 0.70; CEN in the same table: 0.28 / 0.66.
# Fusion point: early here; the other rows: --cfg-options
#   model.generator.fusion_layers=middle (or late, all); see docs/paper_grid.md.
tasks = [
    dict(inputs=['rgb', 'edge_occlusion'], target='depth_euclidean'),
]
model = dict(tasks=tasks, generator=dict(fusion=dict(type='SSMAFusion')))
