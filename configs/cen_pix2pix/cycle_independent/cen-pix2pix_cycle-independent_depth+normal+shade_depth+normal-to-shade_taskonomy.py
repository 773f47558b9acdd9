_base_ = ['../../_base_/translation/cen_pix2pix_taskonomy.py']

# TPAMI'23 Table 6, independent CEN (IN x6, enc x3, dec x3 over the three flows of
# depth+normal+shade): this flow, depth_euclidean + normal -> reshading, trained on its
# own as a multimodal-fusion CEN; the group's other flows are the sibling configs
# (docs/paper_grid.md). Paper (ensemble, MAE / MSE x100): 7.10 / 11.22; all three
# generators: 163.3 M parameters.
tasks = [
    dict(inputs=['depth_euclidean', 'normal'], target='reshading'),
]
model = dict(tasks=tasks)
