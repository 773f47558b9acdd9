_base_ = ['../_base_/translation/cen_pix2pix_taskonomy.py']

# TPAMI'23 Table 9, multimodal multitask CEN-DEC (IN x4, enc x1, dec x2): rgb +
# edge_occlusion -> depth_euclidean, normal. Shared encoder convs, private INs per
# (input, task), one decoder per task; exchange among the inputs of a task in the
# encoder: False; among the task decoders: True.
tasks = [
    dict(inputs=['rgb', 'edge_occlusion'], target='depth_euclidean'),
    dict(inputs=['rgb', 'edge_occlusion'], target='normal'),
]
model = dict(
    tasks=tasks,
    generator=dict(separate_decoders=True, encoder_exchange=False, decoder_exchange=True))
