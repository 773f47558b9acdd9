_base_ = ['../_base_/translation/cen_pix2pix_taskonomy.py']

# TPAMI'23 Table 9, multimodal multitask CEN-ENC+DEC (IN x4, enc x1, dec x2):
# edge_texture + reshading -> rgb, depth_euclidean. Shared encoder convs, private INs
# per (input, task), one decoder per task; exchange among the inputs of a task in the
# encoder: True; among the task decoders: True.
tasks = [
    dict(inputs=['edge_texture', 'reshading'], target='rgb'),
    dict(inputs=['edge_texture', 'reshading'], target='depth_euclidean'),
]
model = dict(
    tasks=tasks,
    generator=dict(separate_decoders=True, encoder_exchange=True, decoder_exchange=True))
