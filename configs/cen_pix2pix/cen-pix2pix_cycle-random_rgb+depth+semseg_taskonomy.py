_base_ = ['../_base_/translation/cen_pix2pix_taskonomy.py']

# TPAMI'23 Table 6, CEN-random (IN x6, enc x1, dec x3): one random flow per step (the
# other flows' decoders/INs get no gradient in that step, hence find_unused_parameters
# under DDP). Flows: rgb+depth_euclidean -> segment_semantic; rgb+segment_semantic ->
# depth_euclidean; depth_euclidean+segment_semantic -> rgb.
# SemSeg = segment_semantic (Taskonomy's semantic labels, as the papers name it); the
# official code's domain table offers only segment_unsup2d/25d, so which folder the
# papers' SemSeg rows used is not recorded (docs/paper_protocol_translation.md).
tasks = [
    dict(inputs=['rgb', 'depth_euclidean'], target='segment_semantic'),
    dict(inputs=['rgb', 'segment_semantic'], target='depth_euclidean'),
    dict(inputs=['depth_euclidean', 'segment_semantic'], target='rgb'),
]
model = dict(
    tasks=tasks,
    generator=dict(separate_decoders=True),
    task_sampling='random')
model_wrapper_cfg = dict(find_unused_parameters=True)
