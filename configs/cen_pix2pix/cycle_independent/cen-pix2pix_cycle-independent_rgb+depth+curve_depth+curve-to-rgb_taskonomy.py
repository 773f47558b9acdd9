_base_ = ['../../_base_/translation/cen_pix2pix_taskonomy.py']

# TPAMI'23 Table 6, independent CEN (IN x6, enc x3, dec x3 over the three flows of
# rgb+depth+curve): this flow, depth_euclidean + principal_curvature -> rgb, trained on
# its own as a multimodal-fusion CEN; the group's other flows are the sibling configs
# (docs/paper_grid.md). Paper (ensemble, FID / KID x100): 85.13 / 2.82; all three
# generators: 163.3 M parameters.
tasks = [
    dict(inputs=['depth_euclidean', 'principal_curvature'], target='rgb'),
]
model = dict(tasks=tasks)
