_base_ = ['../../_base_/translation/cen_pix2pix_taskonomy.py']

# TPAMI'23 Table 6, independent CEN (IN x6, enc x3, dec x3 over the three flows of
# rgb+depth+semseg): this flow, rgb + depth_euclidean -> segment_semantic, trained on
# its own as a multimodal-fusion CEN; the group's other flows are the sibling configs
# (docs/paper_grid.md). Paper (ensemble, MAE / MSE x100): 21.52 / 36.24; all three
# generators: 163.3 M parameters.
tasks = [
    dict(inputs=['rgb', 'depth_euclidean'], target='segment_semantic'),
]
model = dict(tasks=tasks)
