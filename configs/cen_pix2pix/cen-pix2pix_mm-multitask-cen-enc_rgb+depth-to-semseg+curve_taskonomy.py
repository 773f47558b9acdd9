_base_ = ['../_base_/translation/cen_pix2pix_taskonomy.py']

# TPAMI'23 Table 9, multimodal multitask CEN-ENC (IN x4, enc x1, dec x2): rgb +
# depth_euclidean -> segment_semantic, principal_curvature. Shared encoder convs,
# private INs per (input, task), one decoder per task; exchange among the inputs of a
# task in the encoder: True; among the task decoders: False.
# SemSeg = segment_semantic (Taskonomy's semantic labels, as the papers name it); the
# official code's domain table offers only segment_unsup2d/25d, so which folder the
# papers' SemSeg rows used is not recorded (docs/paper_protocol_translation.md).
tasks = [
    dict(inputs=['rgb', 'depth_euclidean'], target='segment_semantic'),
    dict(inputs=['rgb', 'depth_euclidean'], target='principal_curvature'),
]
model = dict(
    tasks=tasks,
    generator=dict(separate_decoders=True, encoder_exchange=True, decoder_exchange=False))
