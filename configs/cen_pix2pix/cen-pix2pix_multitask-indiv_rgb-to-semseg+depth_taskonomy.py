_base_ = ['../_base_/translation/cen_pix2pix_taskonomy.py']

# TPAMI'23 Table 7 baseline Indiv (IN x2, enc x1, dec x2): CEN-dec without the exchange.
# SemSeg = segment_semantic (Taskonomy's semantic labels, as the papers name it); the
# official code's domain table offers only segment_unsup2d/25d, so which folder the
# papers' SemSeg rows used is not recorded (docs/paper_protocol_translation.md).
tasks = [
    dict(inputs=['rgb'], target='segment_semantic'),
    dict(inputs=['rgb'], target='depth_euclidean'),
]
model = dict(
    tasks=tasks,
    generator=dict(separate_decoders=True, decoder_exchange=False))
# no exchanging layer: no sparsity penalty, no exchange statistics (both hooks
# refuse a model without exchange)
custom_hooks = []
