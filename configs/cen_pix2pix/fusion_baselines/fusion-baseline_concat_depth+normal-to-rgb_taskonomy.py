_base_ = ['./_base_/fusion-unet256_taskonomy.py']

# NeurIPS'20 Table 4: depth_euclidean + normal -> rgb, Concat baseline.
# Paper (FID / KID x1e-2): early 105.17 / 5.15, middle 100.29 / 3.37,
#   late 116.51 / 5.74, all-layer 99.08 / 4.28; CEN in the same table: 84.33 / 2.70.
# Fusion point: early here; the other rows: --cfg-options
#   model.generator.fusion_layers=middle (or late, all); see docs/paper_grid.md.
tasks = [
    dict(inputs=['depth_euclidean', 'normal'], target='rgb'),
]
model = dict(tasks=tasks, generator=dict(fusion=dict(type='ConcatFusion')))
