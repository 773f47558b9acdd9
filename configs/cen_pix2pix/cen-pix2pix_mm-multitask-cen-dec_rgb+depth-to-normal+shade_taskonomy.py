_base_ = ['../_base_/translation/cen_pix2pix_taskonomy.py']

# TPAMI'23 Table 9, multimodal multitask CEN-DEC (IN x4, enc x1, dec x2): rgb +
# depth_euclidean -> normal, reshading. Shared encoder convs, private INs per (input,
# task), one decoder per task; exchange among the inputs of a task in the encoder:
# False; among the task decoders: True.
tasks = [
    dict(inputs=['rgb', 'depth_euclidean'], target='normal'),
    dict(inputs=['rgb', 'depth_euclidean'], target='reshading'),
]
model = dict(
    tasks=tasks,
    generator=dict(separate_decoders=True, encoder_exchange=False, decoder_exchange=True))
