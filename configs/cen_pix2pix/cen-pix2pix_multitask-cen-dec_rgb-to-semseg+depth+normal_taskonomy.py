_base_ = ['../_base_/translation/cen_pix2pix_taskonomy.py']

# TPAMI'23 Table 8, multitask CEN-dec (IN x3, enc x1, dec x3): rgb -> segment_semantic,
# depth_euclidean, normal. Shared encoder convs with private INs per task, one decoder
# per task, channel exchange between the task decoders after every decoder IN.
# SemSeg = segment_semantic (Taskonomy's semantic labels, as the papers name it); the
# official code's domain table offers only segment_unsup2d/25d, so which folder the
# papers' SemSeg rows used is not recorded (docs/paper_protocol_translation.md).
tasks = [
    dict(inputs=['rgb'], target='segment_semantic'),
    dict(inputs=['rgb'], target='depth_euclidean'),
    dict(inputs=['rgb'], target='normal'),
]
model = dict(
    tasks=tasks,
    generator=dict(separate_decoders=True, decoder_exchange=True))
