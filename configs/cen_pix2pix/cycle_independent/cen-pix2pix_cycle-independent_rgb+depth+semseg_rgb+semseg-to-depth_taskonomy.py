_base_ = ['../../_base_/translation/cen_pix2pix_taskonomy.py']

# TPAMI'23 Table 6, independent CEN (IN x6, enc x3, dec x3 over the three flows of
# rgb+depth+semseg): this flow, rgb + segment_semantic -> depth_euclidean, trained on
# its own as a multimodal-fusion CEN; the group's other flows are the sibling configs
# (docs/paper_grid.md). Paper (ensemble, MAE / MSE x100): 4.63 / 8.59; all three
# generators: 163.3 M parameters.
tasks = [
    dict(inputs=['rgb', 'segment_semantic'], target='depth_euclidean'),
]
model = dict(tasks=tasks)
