_base_ = ['../_base_/translation/cen_pix2pix_taskonomy.py']

# TPAMI'23 Table 6, CEN-random (IN x6, enc x1, dec x3): one random flow per step (the
# other flows' decoders/INs get no gradient in that step, hence find_unused_parameters
# under DDP). Flows: rgb+depth_euclidean -> normal; rgb+normal -> depth_euclidean;
# depth_euclidean+normal -> rgb.
tasks = [
    dict(inputs=['rgb', 'depth_euclidean'], target='normal'),
    dict(inputs=['rgb', 'normal'], target='depth_euclidean'),
    dict(inputs=['depth_euclidean', 'normal'], target='rgb'),
]
model = dict(
    tasks=tasks,
    generator=dict(separate_decoders=True),
    task_sampling='random')
model_wrapper_cfg = dict(find_unused_parameters=True)
