_base_ = ['./_base_/fusion-unet256_taskonomy.py']

# NeurIPS'20 Table 4: depth_euclidean + normal -> rgb, Align baseline.
# Paper (FID / KID x1e-2): early 111.65 / 5.53, middle 108.92 / 5.26,
#   late 105.85 / 4.98, all-layer 105.03 / 4.91; CEN in the same table: 84.33 / 2.70.
# Fusion point: early here; the other rows: --cfg-options
#   model.generator.fusion_layers=middle (or late, all); see docs/paper_grid.md.
tasks = [
    dict(inputs=['depth_euclidean', 'normal'], target='rgb'),
]
model = dict(tasks=tasks, generator=dict(fusion=dict(type='AlignFusion')))
