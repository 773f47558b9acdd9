_base_ = ['./_base_/fusion-unet256_taskonomy.py']

# NeurIPS'20 Table 4: depth_euclidean + normal -> rgb, Average baseline.
# Paper (FID / KID x1e-2): early 109.25 / 5.50, middle 104.95 / 4.98,
#   late 122.42 / 6.76, all-layer 99.63 / 4.41; CEN in the same table: 84.33 / 2.70.
# Fusion point: early here; the other rows: --cfg-options
#   model.generator.fusion_layers=middle (or late, all); see docs/paper_grid.md.
tasks = [
    dict(inputs=['depth_euclidean', 'normal'], target='rgb'),
]
model = dict(tasks=tasks, generator=dict(fusion=dict(type='AverageFusion')))
