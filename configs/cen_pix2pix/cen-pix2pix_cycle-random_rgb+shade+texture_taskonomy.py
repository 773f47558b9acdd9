_base_ = ['../_base_/translation/cen_pix2pix_taskonomy.py']

# TPAMI'23 Table 6, CEN-random (IN x6, enc x1, dec x3): one random flow per step (the
# other flows' decoders/INs get no gradient in that step, hence find_unused_parameters
# under DDP). Flows: rgb+reshading -> edge_texture; rgb+edge_texture -> reshading;
# reshading+edge_texture -> rgb.
tasks = [
    dict(inputs=['rgb', 'reshading'], target='edge_texture'),
    dict(inputs=['rgb', 'edge_texture'], target='reshading'),
    dict(inputs=['reshading', 'edge_texture'], target='rgb'),
]
model = dict(
    tasks=tasks,
    generator=dict(separate_decoders=True),
    task_sampling='random')
model_wrapper_cfg = dict(find_unused_parameters=True)
